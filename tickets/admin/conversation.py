"""The ticket page's conversation: what it shows, the reply box's POST, and staff downloads.

Plain functions taking the TicketAdmin, so that tickets.py keeps only the admin's
configuration. Each view: permission → object → form → Ticket verb → redirect.
"""

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tickets.data_requests import record_access
from tickets.downloads import attachment_response
from tickets.models import Attachment, CannedResponse, Ticket

from .forms import AgentReplyForm, ReplyKind

DRAFT_KEY = "admin-reply-draft-%s"
# Its fields sit on the same page as the admin's own form: a prefix keeps names and ids apart.
REPLY_PREFIX = "reply"
CANNED_PARAM = "plantilla"


DONE = {
    ReplyKind.PUBLIC: _("Respuesta enviada al solicitante. El ticket quedó en estado Respondido."),
    ReplyKind.INFORMATION: _(
        "Solicitud de información enviada. Si no hay respuesta dentro del plazo, el ticket se cerrará."
    ),
    ReplyKind.INTERNAL: _("Nota interna agregada. El solicitante no la ve."),
}


def change_url(ticket_pk) -> str:
    return reverse("admin:tickets_ticket_change", args=[ticket_pk])


def conversation_context(request: HttpRequest, ticket: Ticket) -> dict:
    """Everything the ticket page shows below the form, in a fixed number of queries."""
    _ticket_files, replies = ticket.conversation(internal=True)
    canned = [
        (c.pk, c.title, c.render(ticket)) for c in CannedResponse.objects.filter(is_active=True)
    ]

    draft = request.session.pop(DRAFT_KEY % ticket.pk, None)
    initial = draft or {}
    chosen = request.GET.get(CANNED_PARAM, "")
    # Without JavaScript, "Insertar" reloads the page with the chosen text in the box.
    for pk, _title, text in canned:
        if chosen == str(pk):
            initial = {**initial, "message": text}
    return {
        "replies": replies,
        "events": list(ticket.events.select_related("actor")),
        "reply_form": AgentReplyForm(initial=initial, prefix=REPLY_PREFIX),
        "canned_responses": canned,
        "canned_texts": {str(pk): text for pk, _title, text in canned},
        "canned_param": CANNED_PARAM,
        "chosen_canned": chosen,
    }


def reply_view(model_admin: ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    ticket = get_object_or_404(Ticket, pk=object_id)
    if not model_admin.has_change_permission(request, ticket):
        raise PermissionDenied
    form = AgentReplyForm(request.POST, request.FILES, prefix=REPLY_PREFIX)
    if form.is_valid():
        d = form.cleaned_data
        try:
            ticket.add_agent_reply(
                user=request.user, message=d["message"], kind=d["kind"], files=d["attachments"]
            )
        except ValidationError as exc:
            form.add_error("attachments", exc)
        else:
            messages.success(request, DONE[d["kind"]])
            return redirect(change_url(ticket.pk) + "#conversacion")
    # Keep what was typed for the page we send the agent back to; files must be chosen again.
    request.session[DRAFT_KEY % ticket.pk] = {
        "message": request.POST.get(form.add_prefix("message"), "")[:20000],
        "kind": request.POST.get(form.add_prefix("kind"), ""),
    }
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)
    return redirect(change_url(ticket.pk) + "#responder")


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
