"""The outbox in admin: what was sent, what waits, what failed and why; re-send."""

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tickets.addresses import display_address
from tickets.models import OutgoingEmail

State = OutgoingEmail.State


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "state",
        "kind",
        "recipient",
        "subject",
        "attempts",
        "next_attempt_at",
        "short_error",
        "ticket_link",
    ]
    list_filter = ["state", "kind"]
    search_fields = ["to", "subject"]
    list_select_related = ["ticket"]
    # The table grows by a few rows per ticket: no COUNT(*) of all of it per page.
    show_full_result_count = False
    actions = ["resend"]
    fields = [
        "created_at",
        "state",
        "kind",
        "recipient",
        "subject",
        "ticket_link",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "body_text",
        "body_html",
    ]
    readonly_fields = fields

    @admin.display(description=OutgoingEmail._meta.get_field("to").verbose_name, ordering="to")
    def recipient(self, obj):
        return display_address(obj.to)

    @admin.display(description=_("último error"))
    def short_error(self, obj):
        return obj.last_error[:80]

    @admin.display(description=_("ticket"), ordering="ticket")
    def ticket_link(self, obj):
        if obj.ticket_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:tickets_ticket_change", args=[obj.ticket_id]),
            obj.ticket,
        )

    # Rows are a record of what was sent: nobody writes or deletes them by hand.
    # Change permission stays on the list only, for the re-send action.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        failed = OutgoingEmail.objects.filter(state=State.FAILED).count()
        title = OutgoingEmail._meta.verbose_name_plural.capitalize()
        if failed:
            title = ngettext("%(title)s · %(n)d fallido", "%(title)s · %(n)d fallidos", failed) % {
                "title": title,
                "n": failed,
            }
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    @admin.action(description=_("Reenviar"), permissions=["change"])
    def resend(self, request, queryset):
        # Attempts start over so a re-sent row gets the whole back-off again;
        # last_error stays until the next attempt says otherwise.
        n = queryset.filter(state__in=[State.FAILED, State.SENT]).update(
            state=State.QUEUED, attempts=0, next_attempt_at=timezone.now()
        )
        self.message_user(
            request,
            ngettext(
                "%(n)d correo quedó en cola; se enviará en el próximo minuto.",
                "%(n)d correos quedaron en cola; se enviarán en el próximo minuto.",
                n,
            )
            % {"n": n},
        )
