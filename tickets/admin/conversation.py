"""The ticket page's conversation: what it shows, the reply box's POST, and staff downloads.

Plain functions taking the TicketAdmin, so that tickets.py keeps only the admin's
configuration. Each view: permission → object → form → Ticket verb → redirect.
"""

from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tickets.data_requests import record_access
from tickets.downloads import attachment_response
from tickets.models import Attachment, CannedResponse, Status, Ticket, user_label

from . import versions
from .forms import EDITABLE_FIELDS, ReplyKind

CANNED_PARAM = "plantilla"


DONE = {
    ReplyKind.PUBLIC: _("Respuesta enviada al solicitante. El ticket quedó en estado Respondido."),
    ReplyKind.INFORMATION: _(
        "Solicitud de información enviada. Si no hay respuesta dentro del plazo, el ticket se cerrará."
    ),
    ReplyKind.INTERNAL: _("Nota interna agregada. El solicitante no la ve."),
}


# "Enviar y dejar en …": the status a send leaves the ticket in, whatever the reply does.
THEN_PARAM = "_then"
THEN_CHOICES = [
    (Status.ANSWERED, _("Enviar y dejar en Respondido")),
    (Status.IN_PROGRESS, _("Enviar y dejar en En curso")),
    (Status.RESOLVED, _("Enviar y marcar Resuelto")),
]


def changes_for_send(request, form) -> dict:
    """The fields the agent changed on the page, plus the status of an "Enviar y dejar en" button."""
    d = form.cleaned_data
    fields = {name: d[name] for name in form.changed_data if name in EDITABLE_FIELDS}
    then = request.POST.get(THEN_PARAM, "")
    if then in dict(THEN_CHOICES):
        fields["status"] = then
    return fields


SENT = {
    ReplyKind.PUBLIC: _("Respuesta enviada al solicitante."),
    ReplyKind.INFORMATION: _("Solicitud de información enviada."),
    ReplyKind.INTERNAL: _("Nota interna agregada."),
}


def send_message(ticket, reply, changed, fields, kind) -> str:
    """What the agent is told after a send: the reply's effect, then the fields' changes."""
    parts = []
    if reply is not None:
        parts.append(str(SENT[kind] if "status" in fields else DONE[kind]))
    if changed:
        parts.append(
            gettext("Cambios registrados en el historial; el ticket quedó en estado %(status)s.")
            % {"status": ticket.get_status_display()}
        )
    return " ".join(parts) or gettext("No había nada que enviar: el ticket quedó como estaba.")


def change_url(ticket_pk) -> str:
    return reverse("admin:tickets_ticket_change", args=[ticket_pk])


def conversation_context(request: HttpRequest, ticket: Ticket, form) -> dict:
    """Everything the ticket page shows around its form, in a fixed number of queries.

    ``form`` is the page's TicketForm: unbound on a GET, bound when a send is shown
    again (an error, or a ticket that changed meanwhile: ``form.stale``).
    """
    ticket_files, replies = ticket.conversation(internal=True)
    ticket.original_files_loaded = ticket_files
    canned = [
        (c.pk, c.title, c.render(ticket)) for c in CannedResponse.objects.filter(is_active=True)
    ]
    events = list(ticket.events.select_related("actor"))
    chosen = request.GET.get(CANNED_PARAM, "")
    if not form.is_bound:
        # Without JavaScript, "Insertar" reloads the page with the chosen text in the box.
        for pk, _title, text in canned:
            if chosen == str(pk):
                form.initial["reply_message"] = text
    ctx = {
        "ticket_files": ticket_files,
        "replies": replies,
        "events": events,
        "ticket_version": str(versions.of_page(ticket, replies, events, form.initial)),
        "canned_responses": canned,
        "canned_texts": {str(pk): text for pk, _title, text in canned},
        "canned_param": CANNED_PARAM,
        "chosen_canned": chosen,
        "then_choices": THEN_CHOICES,
    }
    seen = form.stale
    if seen is not None:
        ctx["changes_since"] = {
            "replies": [r for r in replies if r.pk > seen.reply_id],
            "events": [e for e in events if e.pk > seen.event_id],
        }
    return ctx


def attachment_view(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str, pk: int
) -> HttpResponse:
    """Any attachment of the ticket, internal notes' included, always as a download."""
    ticket = get_object_or_404(Ticket.objects.only("pk"), pk=object_id)
    if not model_admin.has_view_permission(request, ticket):
        raise PermissionDenied
    f = Attachment.objects.filter(pk=pk, ticket=ticket).first()
    if f is None:
        raise Http404
    response = attachment_response(f)
    record_access(request, ticket, "admin_download")
    return response


def print_view(model_admin, request, object_id):
    """The whole ticket on paper: what the requester wrote, the conversation, the history."""
    ticket = get_object_or_404(
        Ticket.objects.select_related("category", "region", "assignee"), pk=object_id
    )
    if not model_admin.has_view_permission(request, ticket):
        raise PermissionDenied
    ticket_files, replies = ticket.conversation(internal=True)
    record_access(request, ticket, "admin_view")
    ctx = {
        "ticket": ticket,
        "ticket_files": ticket_files,
        "replies": replies,
        "events": list(ticket.events.select_related("actor")),
        "back_url": change_url(ticket.pk),
        "assignee": user_label(ticket.assignee),
    }
    return render(request, "admin/tickets/ticket/print.html", ctx)
