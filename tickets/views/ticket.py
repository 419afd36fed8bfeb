"""Submitting and following a ticket: the manual's screens.

Each view: decorators → access helper → form → model verb → redirect.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from tickets import emails, tracking, uploads
from tickets.clientip import client_ip
from tickets.data_requests import record_access
from tickets.downloads import attachment_response
from tickets.forms import ID_SHAPE, ForgottenIdForm, LookupForm, ReplyForm, SubmitTicketForm
from tickets.models import Attachment, Status, Ticket
from tickets.ratelimit import allow
from tickets.submission import submit_ticket
from tickets.views.limits import failed_lookup, ratelimit, throttle_failed_lookups

log = logging.getLogger(__name__)
SESSION_KEY = "tickets"
# A failed look-up says the same whatever was typed, well-formed or not.
NOT_FOUND = _lazy("No encontramos un ticket con esos datos. Revise el ID de seguimiento.")


def remember(request, ticket):
    """Let this browser reopen the ticket without typing the ID (and the e-mail) again."""
    seen = request.session.get(SESSION_KEY, [])
    if ticket.tracking_id not in seen:
        request.session[SESSION_KEY] = (seen + [ticket.tracking_id])[-20:]


def get_ticket_or_404(request, tracking_id, q=None):
    """The one way in: a well-formed tracking ID that exists; anything else is the same 404.

    A malformed ID is still looked up (as "", which matches nothing), so that
    neither the answer nor its timing tells the two apart.
    """
    normalized = tracking.normalize(tracking_id)
    ticket = get_object_or_404((q if q is not None else Ticket.objects), tracking_id=normalized)
    if settings.LOOKUP_REQUIRES_EMAIL and normalized not in request.session.get(SESSION_KEY, []):
        raise Http404
    return ticket


# --- submitting ----------------------------------------------------------------------
@ratelimit("submit")
@require_http_methods(["GET", "POST"])
def submit(request):
    ip = client_ip(request)
    if request.method == "POST":
        form = SubmitTicketForm(request.POST, request.FILES)
        if form.is_valid():
            d = form.cleaned_data
            try:
                uploads.check_ticket_total(None, d["attachments"])
                ticket = submit_ticket(
                    name=d["name"],
                    email=d["email"],
                    category=d["category"],
                    region=d["region"],
                    project_number=d["project_number"],
                    message=d["message"],
                    files=d["attachments"],
                    ip_address=ip,
                    language=get_language() or "es",
                    submission_token=d["submission_token"],
                )
            except ValidationError as exc:
                form.add_error("attachments", exc)
            else:
                remember(request, ticket)
                request.session["submitted"] = ticket.tracking_id
                log.info(
                    "ticket submitted: number=%s id=%s",
                    ticket.number,
                    tracking.short(ticket.tracking_id),
                )
                return redirect("tickets:submitted")
    else:
        form = SubmitTicketForm()
    return render(
        request,
        "tickets/submit.html",
        {"form": form, "ip": ip, "files_lost": form.is_bound and request.FILES},
    )


def submitted(request):
    tracking_id = request.session.get("submitted")
    if not tracking_id:
        return redirect("tickets:submit")
    ticket = get_object_or_404(Ticket, tracking_id=tracking_id)
    return render(request, "tickets/submitted.html", {"ticket": ticket})


# --- following a ticket --------------------------------------------------------------
@throttle_failed_lookups
@require_http_methods(["GET", "POST"])
def lookup(request):
    if request.method == "POST":
        form = LookupForm(request.POST)
        valid = form.is_valid()
        d = form.cleaned_data
        # Always one query, even for what cannot be an ID ("" matches nothing):
        # a malformed and a well-formed unknown ID take the same path and time.
        q = Ticket.objects.filter(tracking_id=d.get("tracking_id", ""))
        if settings.LOOKUP_REQUIRES_EMAIL:
            q = q.filter(email=d.get("email", ""))
        ticket = q.first()
        if valid and ticket:
            remember(request, ticket)
            return redirect(ticket)
        if request.POST.get("tracking_id", "").strip():
            failed_lookup(request)
            form.errors.pop("tracking_id", None)
            form.add_error("tracking_id", ID_SHAPE)
            form.add_error(None, NOT_FOUND)
    else:
        form = LookupForm(initial={"tracking_id": request.GET.get("id", "")[:40]})
    return render(request, "tickets/lookup.html", {"form": form})


@ratelimit("forgotten_id")
@require_http_methods(["GET", "POST"])
def forgotten_id(request):
    if request.method == "POST":
        form = ForgottenIdForm(request.POST)
        if form.is_valid():
            email = form.cleaned_data["email"]
            found = list(
                Ticket.objects.filter(email=email)
                .select_related("category")
                .order_by("-created_at")[:50]
            )
            # The page answers the same whether or not the address has tickets,
            # and whether or not the address is over its limit (then nothing is sent).
            # Counted either way, so the limit says nothing about the address.
            allowed = allow("forgotten_id_email", email)
            if found and allowed:
                emails.forgotten_ids(email, found, language=get_language() or "es")
            return render(request, "tickets/forgotten_id_sent.html", {"email": email})
    else:
        form = ForgottenIdForm()
    return render(request, "tickets/forgotten_id.html", {"form": form})


@throttle_failed_lookups
def ticket_page(request, tracking_id):
    if settings.LOOKUP_REQUIRES_EMAIL and tracking.normalize(
        tracking_id
    ) not in request.session.get(SESSION_KEY, []):
        # A link from an e-mail, in a browser that has not proved the address yet:
        # ask for it (whether or not the ID exists, so the answer reveals nothing).
        return redirect(f"{reverse('tickets:lookup')}?id={tracking.normalize(tracking_id)}")
    ticket = get_ticket_or_404(
        request, tracking_id, Ticket.objects.select_related("category", "region", "merged_into")
    )
    if ticket.merged_into_id:
        # A merged duplicate: its ID keeps working and leads to the ticket it is now part of.
        remember(request, ticket.merged_into)
        return redirect(ticket.merged_into.get_absolute_url())
    record_access(request, ticket, "public_view")
    return render_ticket(request, ticket)


def render_ticket(request, ticket, reply_form=None):
    """The ticket page, also shown again (400) with a reply form's errors."""
    ticket_files, replies = ticket.conversation(internal=False)
    ctx = {
        "ticket": ticket,
        "ticket_files": ticket_files,
        "replies": replies,
        "reply_form": reply_form or ReplyForm(),
        "obfuscated_email": ticket.email.replace("@", " (at) ").replace(".", " (dot) "),
        "can_resolve": ticket.status != Status.RESOLVED,
    }
    status = 400 if reply_form is not None else 200
    return render(request, "tickets/ticket.html", ctx, status=status)


@ratelimit("reply")
@throttle_failed_lookups
@require_POST
def reply(request, tracking_id):
    ticket = get_ticket_or_404(
        request, tracking_id, Ticket.objects.select_related("category", "region")
    )
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        files = form.cleaned_data["attachments"]
        try:
            uploads.check_ticket_total(ticket, files)
            ticket.add_requester_reply(
                message=form.cleaned_data["message"], files=files, ip_address=client_ip(request)
            )
        except ValidationError as exc:
            form.add_error("attachments", exc)
        else:
            messages.success(request, _("Su respuesta fue agregada al ticket."))
            return redirect(ticket)
    return render_ticket(request, ticket, reply_form=form)


@throttle_failed_lookups
@require_http_methods(["GET", "POST"])
def resolve(request, tracking_id):
    ticket = get_ticket_or_404(request, tracking_id)
    if request.method == "POST":
        ticket.mark_resolved()
        messages.success(
            request,
            _(
                "El ticket quedó marcado como Resuelto. Si necesita algo más, puede responder y se reabrirá."
            ),
        )
        return redirect(ticket)
    return render(request, "tickets/resolve_confirm.html", {"ticket": ticket})


@throttle_failed_lookups
def attachment(request, tracking_id, pk):
    ticket = get_ticket_or_404(request, tracking_id)
    f = get_object_or_404(
        Attachment.objects.exclude(reply__is_internal=True).select_related(None),
        pk=pk,
        ticket=ticket,
    )
    response = attachment_response(f)
    record_access(request, ticket, "public_download")
    return response
