"""Staff accounts. Supervisors manage agents; only superusers hand out more power."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group

from .wording import SpanishMessagesMixin

User = get_user_model()
# Created by migration 0003_groups.
ROLE_GROUPS = ("Agentes", "Supervisores")

# Without these a supervisor could make anyone, themselves included, a superuser
# or give them permissions beyond their role.
ESCALATING_FIELDS = ("is_superuser", "user_permissions")


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class StaffAdmin(SpanishMessagesMixin, UserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "is_staff", "is_active")
    list_filter = ("is_staff", "is_active", "groups")

    def get_queryset(self, request):
        q = super().get_queryset(request)
        # Editing a superuser (their password, their e-mail) is taking their power.
        return q if request.user.is_superuser else q.filter(is_superuser=False)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if request.user.is_superuser else (*fields, *ESCALATING_FIELDS)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=ROLE_GROUPS)
        return super().formfield_for_manytomany(db_field, request, **kwargs)
