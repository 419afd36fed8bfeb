"""Correo entrante: every message sent to the desk, what became of it, and the two
actions for mail held "sin asociar": attach it to a ticket, or open a new ticket from it.

The message's text is shown as text (escaped, line breaks kept): HTML that arrived
by mail is never rendered here, and the original is never served.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import Q
from django.utils.html import format_html, linebreaks
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from tickets import inbound, tracking
from tickets.forms import parse_project_number
from tickets.models import Category, InboundEmail, Region, Ticket

from .records import RecordAdminMixin

State = InboundEmail.State


class InboundActionForm(ActionForm):
    """The action bar: which ticket to attach to, or the facts a new ticket needs."""

    ticket = forms.CharField(
        label=_("Ticket (ID de seguimiento o número):"), required=False, max_length=40
    )
    category = forms.ModelChoiceField(
        label=_("Categoría:"), required=False, queryset=Category.objects.filter(is_active=True)
    )
    region = forms.ModelChoiceField(label=_("Región:"), required=False, queryset=Region.objects)
    project_number = forms.CharField(label=_("Número de proyecto:"), required=False, max_length=300)


def find_ticket(value: str) -> Ticket | None:
    value = (value or "").strip().lstrip("#")
    tracking_id = tracking.normalize(value)
    q = Q(tracking_id=tracking_id) if tracking_id else Q(pk__in=[])
    if value.isdigit() and len(value) < 10:
        q |= Q(number=int(value))
    return Ticket.objects.filter(q).first()


@admin.register(InboundEmail)
class InboundEmailAdmin(RecordAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "state", "sender", "subject", "reason", "ticket_link"]
    list_filter = ["state", "source"]
    search_fields = ["sender", "subject", "message_id"]
    list_select_related = ["ticket"]
    show_full_result_count = False
    actions = ["attach", "open_new_ticket"]
    action_form = InboundActionForm
    fields = [
        "received_at",
        "state",
        "reason",
        "source",
        "sender",
        "sender_name",
        "subject",
        "message_id",
        "size",
        "ticket_link",
        "reply_text_display",
        "text_display",
        "auto_answered",
        "handled_by",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # The original message can be 25 MB: never read it to draw a list or a page.
        return super().get_queryset(request).defer("raw")

    @admin.display(description=_("respuesta sin citas"))
    def reply_text_display(self, obj):
        return format_html('<div class="entry-message">{}</div>', linebreaks(obj.reply_text))

    @admin.display(description=_("texto completo"))
    def text_display(self, obj):
        return format_html('<div class="entry-message">{}</div>', linebreaks(obj.text))

    def changelist_view(self, request, extra_context=None):
        waiting = InboundEmail.objects.filter(state=State.UNMATCHED).count()
        title = InboundEmail._meta.verbose_name_plural.capitalize()
        if waiting:
            title = ngettext(
                "%(title)s · %(n)d sin asociar", "%(title)s · %(n)d sin asociar", waiting
            ) % {"title": title, "n": waiting}
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def _waiting(self, request, queryset):
        rows = list(queryset.filter(state__in=[State.UNMATCHED, State.HELD]).exclude(raw=None))
        if not rows:
            self.message_user(
                request,
                gettext(
                    "Ninguno de los correos elegidos espera asociarse "
                    "(ya aplicados, ignorados o demasiado grandes para leerlos)."
                ),
                messages.WARNING,
            )
        return rows

    @admin.action(description=_("Asociar al ticket indicado"), permissions=["change"])
    def attach(self, request, queryset):
        ticket = find_ticket(request.POST.get("ticket", ""))
        if ticket is None:
            self.message_user(
                request,
                gettext("Escriba en «Ticket» el ID de seguimiento o el número de un ticket."),
                messages.WARNING,
            )
            return
        if ticket.email.endswith(Ticket.ANONYMIZED_EMAIL_SUFFIX):
            self.message_user(
                request,
                gettext("Ese ticket fue anonimizado: no recibe respuestas."),
                messages.ERROR,
            )
            return
        done = sum(
            inbound.attach_to_ticket(row, ticket, user=request.user)
            for row in self._waiting(request, queryset)
        )
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(n)d correo agregado al ticket %(ticket)s.",
                    "%(n)d correos agregados al ticket %(ticket)s.",
                    done,
                )
                % {"n": done, "ticket": ticket},
                messages.SUCCESS,
            )

    @admin.action(description=_("Abrir un ticket nuevo con cada correo"), permissions=["change"])
    def open_new_ticket(self, request, queryset):
        form = InboundActionForm(request.POST)
        form.is_valid()
        d = form.cleaned_data
        problems = []
        if not d.get("category"):
            problems.append(gettext("elija la categoría"))
        if not d.get("region"):
            problems.append(gettext("elija la región"))
        try:
            project_number = parse_project_number(d.get("project_number", ""))
        except forms.ValidationError:
            problems.append(gettext("escriba el número de proyecto"))
        if problems:
            self.message_user(
                request,
                gettext("Para abrir un ticket nuevo: %(what)s.") % {"what": ", ".join(problems)},
                messages.WARNING,
            )
            return
        opened = []
        for row in self._waiting(request, queryset):
            if "@" not in row.sender:
                continue
            ticket = inbound.open_ticket(
                row,
                user=request.user,
                category=d["category"],
                region=d["region"],
                project_number=project_number,
            )
            if ticket is not None:
                opened.append(str(ticket))
        if opened:
            self.message_user(
                request,
                gettext("Tickets abiertos: %(tickets)s.") % {"tickets": ", ".join(opened)},
                messages.SUCCESS,
            )
