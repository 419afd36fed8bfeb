"""Reference data supervisors manage; agents only see it (permissions from the groups' migration)."""

from django.contrib import admin
from django.db import transaction

from tickets.models import CannedResponse, Category, NonWorkingDay, Region, RegionalContact
from tickets.snapshots import write_contacts_snapshot

from .forms import staff_users
from .wording import SpanishMessagesMixin


class RoutingAgentsMixin:
    """Only staff can be told about new tickets: requesters are not users."""

    filter_horizontal = ("agents",)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "agents":
            kwargs["queryset"] = staff_users()
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ContactsSnapshotMixin:
    """Re-render the error pages' contact list once the change is committed."""

    def _refresh_snapshot(self):
        # robust: a full disk must not turn a saved contact into an error page.
        transaction.on_commit(write_contacts_snapshot, robust=True)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._refresh_snapshot()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._refresh_snapshot()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        self._refresh_snapshot()


@admin.register(Category)
class CategoryAdmin(SpanishMessagesMixin, RoutingAgentsMixin, admin.ModelAdmin):
    list_display = ("name", "is_active", "position")
    list_filter = ("is_active",)
    search_fields = ("name",)
    fields = ("name", "is_active", "position", "agents")


@admin.register(Region)
class RegionAdmin(
    SpanishMessagesMixin, RoutingAgentsMixin, ContactsSnapshotMixin, admin.ModelAdmin
):
    list_display = ("code", "name", "holiday_subdiv", "position")
    search_fields = ("code", "name")
    fields = ("code", "name", "holiday_subdiv", "position", "agents")


@admin.register(RegionalContact)
class RegionalContactAdmin(SpanishMessagesMixin, ContactsSnapshotMixin, admin.ModelAdmin):
    list_display = ("name", "region", "role", "email", "phone", "position")
    list_filter = ("region",)
    list_select_related = ("region",)
    search_fields = ("name", "email", "region__name")
    fields = ("region", "name", "role", "email", "phone", "position")


@admin.register(NonWorkingDay)
class NonWorkingDayAdmin(SpanishMessagesMixin, admin.ModelAdmin):
    list_display = ("date", "region", "description")
    list_filter = ("region",)
    list_select_related = ("region",)
    date_hierarchy = "date"
    search_fields = ("description",)


@admin.register(CannedResponse)
class CannedResponseAdmin(SpanishMessagesMixin, admin.ModelAdmin):
    list_display = ("title", "is_active")
    list_filter = ("is_active",)
    search_fields = ("title", "body")
