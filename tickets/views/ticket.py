"""Submitting and following a ticket: the manual's screens.

Each view: decorators → access helper → form → model verb → redirect.
"""

import hashlib
import logging
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from tickets import emails, reference_choices, tracking, uploads
from tickets.bookkeeping import bookkeeping
from tickets.clientip import client_ip
from tickets.data_requests import record_access
from tickets.downloads import attachment_response
from tickets.forms import (
    ID_SHAPE,
    ForgottenIdForm,
    LookupForm,
    RatingForm,
    ReplyForm,
    SubmitTicketForm,
)
from tickets.models import Attachment, Reply, Status, Ticket
from tickets.models.rating import rating_open_until
from tickets.ratelimit import allow
from tickets.session_store import keep_response_if_session_fails
from tickets.submission import submit_form
from tickets.views import blank_form, filled_in
from tickets.views.headers import private_once_filled, private_page
from tickets.views.limits import failed_lookup, ratelimit, throttle_failed_lookups

log = logging.getLogger(__name__)
fragments = caches["fragments"]
SESSION_KEY = "tickets"
# A failed look-up says the same whatever was typed, well-formed or not.
NOT_FOUND = _("No encontramos un ticket con esos datos. Revise el ID de seguimiento.")
# The confirmation page finds the new ticket through this signed cookie, sent with
# the redirect, and not only through the session: the session is saved in the
# database after the ticket committed, and a connection cut there must not cost
# the requester the tracking ID (issue 21). Scoped to that page, gone in minutes.
SUBMITTED_COOKIE = "ticket_enviado"
SUBMITTED_SALT = "tickets.submitted"
SUBMITTED_MAX_AGE = 15 * 60


def remember(request: HttpRequest, ticket: Ticket) -> None:
    """Let this browser reopen the ticket without typing the ID (and the e-mail) again."""
    seen = request.session.get(SESSION_KEY, [])
    if ticket.tracking_id not in seen:
        request.session[SESSION_KEY] = (seen + [ticket.tracking_id])[-20:]


def get_ticket_or_404(request: HttpRequest, tracking_id: str, q: QuerySet | None = None) -> Ticket:
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
@private_once_filled
@ratelimit("submit")
@require_http_methods(["GET", "HEAD", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    ip = client_ip(request)
    if request.method == "POST":
        form = SubmitTicketForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                ticket = submit_form(
                    form.cleaned_data, ip_address=ip, language=get_language() or "es"
                )
            except ValidationError as exc:
                form.add_error("attachments", exc)
            else:
                log.info(
                    "ticket submitted: number=%s id=%s",
                    ticket.number,
                    tracking.short(ticket.tracking_id),
                )
                response = redirect("tickets:submitted")
                response.set_signed_cookie(
                    SUBMITTED_COOKIE,
                    ticket.tracking_id,
                    salt=SUBMITTED_SALT,
                    max_age=SUBMITTED_MAX_AGE,
                    path=reverse("tickets:submitted"),
                    secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite="Lax",
                )
                remember_submission(request, ticket)
                return response
    elif filled_in.servable(request):
        return blank_form.page(request, ip, partial(render_blank_form, request, ip))
    else:
        form = SubmitTicketForm()
    return render(
        request,
        "tickets/submit.html",
        {"form": form, "ip": ip, "files_lost": form.is_bound and request.FILES},
    )


def render_blank_form(request: HttpRequest, ip: str, marked: bool) -> HttpResponse:
    if not marked:
        return render(request, "tickets/submit.html", {"form": SubmitTicketForm(), "ip": ip})
    form = SubmitTicketForm(initial={"submission_token": blank_form.SUBMISSION_MARK})
    form.fields["captcha"].widget.fixed_key = blank_form.CAPTCHA_MARK
    context = {"form": form, "ip": blank_form.IP_MARK, "csrf_token": filled_in.CSRF_MARK}
    return render(request, "tickets/submit.html", context)


def remember_submission(request: HttpRequest, ticket: Ticket) -> None:
    """The session side of a committed submission; a database failure here is logged, not shown."""
    keep_response_if_session_fails(request)
    try:
        remember(request, ticket)
        if request.session.get("submitted") != ticket.tracking_id:
            request.session["submitted"] = ticket.tracking_id
    except DatabaseError:
        log.warning(
            "ticket %s saved, but the session could not be read; confirmed by cookie",
            tracking.short(ticket.tracking_id),
            exc_info=True,
        )


@private_page
@require_safe
def submitted(request: HttpRequest) -> HttpResponse:
    # The cookie first: it names this browser's latest submission even when the
    # session kept an older one because saving it failed.
    tracking_id = request.get_signed_cookie(
        SUBMITTED_COOKIE, default=None, salt=SUBMITTED_SALT, max_age=SUBMITTED_MAX_AGE
    )
    from_cookie = bool(tracking_id)
    tracking_id = tracking_id or request.session.get("submitted")
    if not tracking_id:
        return redirect("tickets:submit")
    ticket = get_object_or_404(Ticket, tracking_id=tracking_id)
    if from_cookie:
        # The cookie proves what the session would have: this browser sent the
        # ticket. Try the session again, so "Visualizar su ticket" opens it
        # without asking for the e-mail (LOOKUP_REQUIRES_EMAIL).
        remember_submission(request, ticket)
    return render(request, "tickets/submitted.html", {"ticket": ticket})


# --- following a ticket --------------------------------------------------------------
@private_once_filled
@throttle_failed_lookups
@require_http_methods(["GET", "HEAD", "POST"])
def lookup(request: HttpRequest) -> HttpResponse:
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
    return render(
        request, "tickets/lookup.html", {"form": form, "remembered": remembered_tickets(request)}
    )


def remembered_tickets(request) -> list[Ticket]:
    """The tickets this browser sent or opened, most recently updated first: one query."""
    ids = request.session.get(SESSION_KEY, [])
    if not ids:
        return []
    q = Ticket.objects.filter(tracking_id__in=ids).only(
        "tracking_id", "number", "subject", "status", "updated_at"
    )
    return list(q.order_by("-updated_at"))


@private_page
@require_POST
def forget(request: HttpRequest) -> HttpResponse:
    """On a shared computer: this browser stops remembering the requester's tickets."""
    request.session.pop(SESSION_KEY, None)
    request.session.pop("submitted", None)
    messages.success(
        request,
        _(
            "Listo: este computador ya no recuerda sus tickets. Para volver a verlos necesitará el ID de seguimiento."
        ),
    )
    return redirect("tickets:lookup")


@private_once_filled
@ratelimit("forgotten_id")
@require_http_methods(["GET", "HEAD", "POST"])
def forgotten_id(request: HttpRequest) -> HttpResponse:
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


@private_page
@throttle_failed_lookups
@require_safe
def ticket_page(request: HttpRequest, tracking_id: str) -> HttpResponse:
    if settings.LOOKUP_REQUIRES_EMAIL and tracking.normalize(
        tracking_id
    ) not in request.session.get(SESSION_KEY, []):
        # A link from an e-mail, in a browser that has not proved the address yet:
        # ask for it (whether or not the ID exists, so the answer reveals nothing).
        return redirect(f"{reverse('tickets:lookup')}?id={tracking.normalize(tracking_id)}")
    ticket = get_ticket_or_404(request, tracking_id, TICKET_PAGE_ROWS)
    if ticket.merged_into_id:
        # A merged duplicate: its ID keeps working and leads to the ticket it is now part of.
        remember(request, ticket.merged_into)
        return redirect(ticket.merged_into.get_absolute_url())
    with bookkeeping():
        record_access(request, ticket, "public_view")
    if filled_in.servable(request) and rating_open_until(ticket) is None:
        return kept_ticket_page(request, ticket)
    return render_ticket(request, ticket)


def kept_ticket_page(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    """The page as rendered for the ticket's present state, with this request's CSRF token.

    Not for a finished ticket: its rating box changes with the clock. Category names come
    with the page, so a renamed one shows within the time the form's lists are kept.
    """
    key = ":".join(
        (
            "ticket-page",
            str(ticket.pk),
            get_language(),
            str(reference_choices.generation()),
            request.path,
            ticket_state(ticket),
        )
    )

    def render_page(marked: bool) -> HttpResponse:
        extra = {"csrf_token": filled_in.CSRF_MARK} if marked else {}
        return render_ticket(request, ticket, extra=extra)

    values = {filled_in.CSRF_MARK: lambda: get_token(request)}
    return filled_in.page(key, render_page, values, reference_choices.CHOICES_SECONDS)


# What the requester's conversation is made of, read with the ticket itself (subqueries on
# the (ticket, …) indexes): rows written without the verbs (an import, a data fix) change
# these even when they leave updated_at alone.
CONVERSATION_ROWS = {
    "conv_last_reply": Subquery(
        Reply.objects.filter(ticket=OuterRef("pk")).order_by("-pk").values("pk")[:1]
    ),
    "conv_replies": Subquery(
        Reply.objects.filter(ticket=OuterRef("pk"))
        .order_by()
        .values("ticket")
        .annotate(n=Count("pk"))
        .values("n")
    ),
    "conv_last_file": Subquery(
        Attachment.objects.filter(ticket=OuterRef("pk")).order_by("-pk").values("pk")[:1]
    ),
}


def with_conversation_rows(q: QuerySet) -> QuerySet:
    return q.annotate(**CONVERSATION_ROWS)


# Built once: annotating resolves the three subqueries, a fifth of the page's CPU if
# done per request. A merged duplicate's main ticket is read only when it is one.
TICKET_PAGE_ROWS = with_conversation_rows(Ticket.objects.select_related("category", "region"))


def ticket_state(ticket: Ticket) -> str:
    """A digest of everything the ticket's pages show that can change.

    The ticket's own row as read (its status, its requester's name and address, which
    change when data is rectified or erased…) and its reply and file rows as they are in
    the table: a stale page or fragment is never found, whichever process made the
    change, through the verbs or not.
    """
    if not hasattr(ticket, "conv_last_reply"):
        rows = with_conversation_rows(Ticket.objects.filter(pk=ticket.pk))
        for name, value in rows.values(*CONVERSATION_ROWS).get().items():
            setattr(ticket, name, value)
    row = ticket.__dict__
    state = [row.get(f.attname) for f in Ticket._meta.concrete_fields]
    state += [row[name] for name in CONVERSATION_ROWS]
    return hashlib.blake2b(repr(state).encode(), digest_size=12).hexdigest()


def conversation_html(ticket: Ticket) -> str:
    """The requester's view of the conversation, rendered once per state of the ticket.

    Cached, a page shown again with a form's errors skips two queries and most of its
    template work (benchmarks/RESULTS.md).
    """
    key = f"conversation:{ticket.pk}:{get_language()}:{ticket_state(ticket)}"
    html = fragments.get(key)
    if html is None:
        ticket_files, replies = ticket.conversation(internal=False)
        html = render_to_string(
            "tickets/_conversation.html",
            {
                "ticket": ticket,
                "ticket_files": ticket_files,
                "replies": replies,
                "obfuscated_email": ticket.email.replace("@", " (at) ").replace(".", " (dot) "),
            },
        )
        fragments.set(key, html)
    # Our own template's autoescaped output (bandit's mark_safe warning does not apply).
    return mark_safe(html)  # nosec B308, B703


def render_ticket(
    request: HttpRequest,
    ticket: Ticket,
    reply_form: ReplyForm | None = None,
    rating_form: RatingForm | None = None,
    extra: dict | None = None,
) -> HttpResponse:
    """The ticket page, also shown again (400) with a reply or rating form's errors."""
    ctx = {
        "ticket": ticket,
        "conversation_html": conversation_html(ticket),
        "reply_form": reply_form or ReplyForm(),
        "can_resolve": ticket.status != Status.RESOLVED,
        "rating_form": rating_form,
        **(extra or {}),
    }
    status = 400 if reply_form is not None or rating_form is not None else 200
    return render(request, "tickets/ticket.html", ctx, status=status)


@private_page
@ratelimit("reply")
@throttle_failed_lookups
@require_POST
def reply(request: HttpRequest, tracking_id: str) -> HttpResponse:
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
            messages.success(request, gettext("Su respuesta fue agregada al ticket."))
            return redirect(ticket)
    return render_ticket(request, ticket, reply_form=form)


@private_page
@throttle_failed_lookups
@require_http_methods(["GET", "HEAD", "POST"])
def resolve(request: HttpRequest, tracking_id: str) -> HttpResponse:
    ticket = get_ticket_or_404(request, tracking_id)
    if request.method == "POST":
        ticket.mark_resolved()
        messages.success(
            request,
            gettext(
                "El ticket quedó marcado como Resuelto. Si necesita algo más, puede responder y se reabrirá."
            ),
        )
        return redirect(ticket)
    return render(request, "tickets/resolve_confirm.html", {"ticket": ticket})


@private_page
@throttle_failed_lookups
@require_safe
def attachment(request: HttpRequest, tracking_id: str, pk: int) -> HttpResponse:
    ticket = get_ticket_or_404(request, tracking_id)
    f = get_object_or_404(
        Attachment.objects.exclude(reply__is_internal=True).select_related(None),
        pk=pk,
        ticket=ticket,
    )
    response = attachment_response(f)
    with bookkeeping():
        record_access(request, ticket, "public_download")
    return response
