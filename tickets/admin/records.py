"""Admin for rows that record what happened: read, never written by hand."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _


class RecordAdminMixin:
    """A log of what happened (mail sent or received): nobody adds or deletes rows by hand.

    Change permission stays on the list only, for the actions (re-send, attach to a
    ticket); a row's own page is read-only.
    """

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    @admin.display(description=_("ticket"), ordering="ticket")
    def ticket_link(self, obj):
        """The row's ticket as a link to its page, or a dash (mail about no ticket)."""
        if obj.ticket_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:tickets_ticket_change", args=[obj.ticket_id]),
            obj.ticket,
        )
