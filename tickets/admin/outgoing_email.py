"""The outbox in admin: what was sent, what waits, what failed and why; re-send."""

from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tickets.addresses import display_address
from tickets.models import OutgoingEmail

from .records import RecordAdminMixin
from .wording import SpanishMessagesMixin

State = OutgoingEmail.State

# What each message is, in the staff's words (the codes are the e-mail function names).
KIND_LABELS = {
    "ticket_created": _("Confirmación de ticket recibido"),
    "new_ticket_agents": _("Aviso de ticket nuevo a agentes"),
    "agent_replied": _("Respuesta de la mesa de ayuda"),
    "information_requested": _("Solicitud de información"),
    "ticket_resolved": _("Ticket resuelto"),
    "ticket_closed": _("Ticket cerrado"),
    "ticket_closed_automatically": _("Cierre automático"),
    "ticket_merged": _("Tickets fusionados"),
    "forgotten_ids": _("IDs de seguimiento olvidados"),
    "requester_replied": _("Respuesta del solicitante"),
    "ticket_assigned": _("Ticket asignado"),
    "lookup_abuse_alert": _("Alerta de búsquedas fallidas"),
}


class KindFilter(admin.SimpleListFilter):
    title = _("tipo")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return list(KIND_LABELS.items())

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(SpanishMessagesMixin, RecordAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "state",
        "kind_label",
        "recipient",
        "subject",
        "attempts",
        "next_attempt",
        "short_error",
        "ticket_link",
    ]
    list_filter = ["state", KindFilter]
    search_fields = ["to", "subject"]
    list_select_related = ["ticket"]
    # The table grows by a few rows per ticket: no COUNT(*) of all of it per page.
    show_full_result_count = False
    actions = ["resend"]
    fields = [
        "created_at",
        "state",
        "kind_label",
        "recipient",
        "subject",
        "ticket_link",
        "attempts",
        "next_attempt",
        "sent_at",
        "last_error",
        "body_text",
        "body_html",
    ]
    readonly_fields = fields

    @admin.display(description=OutgoingEmail._meta.get_field("to").verbose_name, ordering="to")
    def recipient(self, obj):
        return display_address(obj.to)

    @admin.display(description=_("tipo"), ordering="kind")
    def kind_label(self, obj):
        return KIND_LABELS.get(obj.kind, obj.kind)

    @admin.display(description=_("próximo intento"), ordering="next_attempt_at")
    def next_attempt(self, obj):
        # A sent row has no next attempt, whatever the column still holds.
        if obj.state != State.QUEUED or obj.next_attempt_at is None:
            return "—"
        return date_format(timezone.localtime(obj.next_attempt_at), "SHORT_DATETIME_FORMAT")

    @admin.display(description=_("último error"))
    def short_error(self, obj):
        return obj.last_error[:80]

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
