"""Staff accounts. Supervisors manage agents; only superusers hand out more power."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from tickets import staff_auth

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
    list_display = (
        "username",
        "first_name",
        "last_name",
        "email",
        "is_staff",
        "is_active",
        "second_factor",
    )
    list_filter = ("is_staff", "is_active", "groups")
    actions = ["reset_second_factor"]

    def get_queryset(self, request):
        q = (
            super()
            .get_queryset(request)
            .annotate(
                has_second_factor=Exists(
                    TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
                )
            )
        )
        # Editing a superuser (their password, their e-mail) is taking their power.
        return q if request.user.is_superuser else q.filter(is_superuser=False)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if request.user.is_superuser else (*fields, *ESCALATING_FIELDS)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=ROLE_GROUPS)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("Doble factor"), boolean=True, ordering="has_second_factor")
    def second_factor(self, obj):
        return obj.has_second_factor

    def has_reset_second_factor_permission(self, request):
        return request.user.is_superuser or request.user.groups.filter(name="Supervisores").exists()

    @admin.action(
        description=_("Restablecer el doble factor (teléfono perdido)"),
        permissions=["reset_second_factor"],
    )
    def reset_second_factor(self, request, queryset):
        """Remove the app and recovery codes of the chosen agents and end their sessions;
        each reset is recorded (Restablecimientos de segundo factor, and the user's history)."""
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(
                request,
                gettext("No puede restablecer su propio doble factor: pídalo a otro supervisor."),
                messages.ERROR,
            )
            return
        users = list(queryset)
        for user in users:
            staff_auth.reset_second_factor(user, by=request.user)
            self.log_change(request, user, gettext("Doble factor restablecido."))
        self.message_user(
            request,
            ngettext(
                "Se restableció el doble factor de %(count)d cuenta y se cerraron sus sesiones: "
                "deberá activarlo de nuevo al entrar.",
                "Se restableció el doble factor de %(count)d cuentas y se cerraron sus sesiones: "
                "deberán activarlo de nuevo al entrar.",
                len(users),
            )
            % {"count": len(users)},
            messages.SUCCESS,
        )
