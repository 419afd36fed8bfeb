"""Records of staff security in the admin: second-factor resets; django-otp's own admin hidden.

Supervisors also see django-axes' lists (access attempts, failures, sign-ins), by the
view permissions migration 0010 gives their group.
"""

from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from tickets.models import SecondFactorReset, user_label

# Devices are made by their owner's enrolment and removed by a reset, never edited
# by hand: django-otp's admin would show another person's secret key.
for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(SecondFactorReset)
class SecondFactorResetAdmin(admin.ModelAdmin):
    list_display = ("reset_at", "user", "reset_by_label")
    list_select_related = ("user", "reset_by")
    search_fields = ("user__username", "user__last_name")
    date_hierarchy = "reset_at"
    show_full_result_count = False

    @admin.display(description=SecondFactorReset._meta.get_field("reset_by").verbose_name)
    def reset_by_label(self, obj):
        return user_label(obj.reset_by) if obj.reset_by else "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
