"""One function per message. Each renders a template triplet into outbox rows.

Called inside the transaction of the change that causes the message, so the
mail exists if and only if the change does. ``send_queued_mail`` sends them.
"""

from __future__ import annotations

import copy
import logging
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from tickets import bulk, outbox, ratelimit, ratings
from tickets.models.outgoing_email import OutgoingEmail

if TYPE_CHECKING:  # emails is imported by models/ticket.py: only the type checker may look back up
    from tickets.models.ticket import Reply, Ticket

log = logging.getLogger(__name__)

# First line of every ticket e-mail when replies by mail are on: tickets/inbound.py
# keeps only what the requester wrote above it.
REPLY_MARKER = _("—— Escriba su respuesta sobre esta línea ——")


def _render(
    kind: str, recipients, *, ticket: Ticket | None = None, language: str = "es", **ctx
) -> list[OutgoingEmail]:
    """One message's outbox rows, one per recipient, not saved yet (``_save`` writes them)."""
    ctx.setdefault("ticket", ticket)
    ctx["site_url"] = settings.PUBLIC_SITE_URL
    ctx["site_name"] = settings.SITE_NAME
    with translation.override(language):
        if ticket is not None and settings.INBOUND_EMAIL_ADDRESS:
            ctx["reply_marker"] = str(REPLY_MARKER)
        # A subject is one line: whatever a template renders, collapse it.
        subject = " ".join(render_to_string(f"emails/{kind}-subject.txt", ctx).split())
        text = render_to_string(f"emails/{kind}-body.txt", ctx)
        html = render_to_string(f"emails/{kind}-body.html", ctx)
    if ctx.get("reply_marker"):
        text = f"{ctx['reply_marker']}\n\n{text}"
    return _rows(kind, recipients, ticket, subject, text, html)


def _rows(
    kind: str, recipients, ticket: Ticket | None, subject: str, text: str, html: str
) -> list[OutgoingEmail]:
    """One message's outbox rows, one per recipient, from its rendered parts."""
    rows = []
    for to in sorted(set(recipients)):
        if not to:
            continue
        row = OutgoingEmail(
            kind=kind,
            to=to[:254],
            subject=subject[:250],
            body_text=text,
            body_html=html,
            ticket=ticket,
            message_id=outbox.new_message_id(),
        )
        # The forms validate addresses; this is the last line against a CR/LF or
        # a second address smuggled in elsewhere. A row that can never be sent is
        # kept as "failed", visible in admin, instead of breaking the change.
        row.last_error = outbox.recipient_problem(to)
        if row.last_error:
            row.state = OutgoingEmail.State.FAILED
        rows.append(row)
    return rows


def _save(rows: list[OutgoingEmail], *, many: bool = False) -> list[OutgoingEmail]:
    """Write rendered rows in one INSERT (``many``: by COPY) and hand the sendable ones to the outbox."""
    if many:
        bulk.insert(rows)
    else:
        OutgoingEmail.objects.bulk_create(rows)
    for row in rows:
        if row.state == OutgoingEmail.State.FAILED:
            log.warning("outbox: message %s (%s) not queued: invalid recipient", row.pk, row.kind)
    ids = [r.pk for r in rows if r.pk and r.state == OutgoingEmail.State.QUEUED]
    outbox.after_commit(ids)
    return rows


def _queue(kind: str, recipients, **kwargs) -> list[OutgoingEmail]:
    return _save(_render(kind, recipients, **kwargs))


def agent_addresses(ticket: Ticket) -> set[str]:
    """Agents routed for the ticket's category or region, else the help desk's address."""
    User = get_user_model()
    q = User.objects.filter(is_active=True, is_staff=True).exclude(email="")
    q = q.filter(routed_categories=ticket.category_id) | q.filter(routed_regions=ticket.region_id)
    addresses = set(q.values_list("email", flat=True))
    return addresses or {settings.HELPDESK_NOTIFY_EMAIL}


def _mark() -> str:
    """A stand-in for a value in a template rendered once and filled in afterwards: random,
    so that no text a person typed can be taken for one."""
    return f"mark{secrets.token_hex(12)}"


# --- to the requester ----------------------------------------------------------------
def ticket_created(ticket: Ticket) -> Callable[[], None]:
    """Render the confirmation and the agents' notice; the function returned queues them
    (in one INSERT) once the ticket has been saved with its number.

    ``Ticket.open`` calls this before it takes the number, whose counter row stays
    locked until the commit: rendering six templates under that lock made every other
    submission wait for it (benchmarks/RESULTS.md, issue 17). The number and the id are
    rendered as random markers and filled in, digits for digits, in all three parts; a
    test compares the result with a full rendering.
    """
    agents = agent_addresses(ticket)
    number_mark, id_mark = _mark(), _mark()
    stand_in = copy.copy(ticket)
    stand_in.number, stand_in.pk = number_mark, id_mark
    confirmation = _render(
        "ticket_created", [ticket.email], ticket=stand_in, language=ticket.language
    )
    notice = _render("new_ticket_agents", agents, ticket=stand_in)

    def fill(text: str) -> str:
        return text.replace(number_mark, str(ticket.number)).replace(id_mark, str(ticket.pk))

    def queue() -> None:
        rows = []
        # An anonymous form that mails any address it is given would be a spam relay:
        # past the per-address limit the ticket is still created, and staff still
        # hear of it, but no confirmation goes out (ratelimit.allow logs it).
        if ratelimit.allow("confirmation_email", ticket.email):
            rows += confirmation
        rows += notice
        for row in rows:
            row.ticket = ticket
            row.subject = fill(row.subject)[:250]
            row.body_text, row.body_html = fill(row.body_text), fill(row.body_html)
        _save(rows)

    return queue


def agent_replied(reply: Reply) -> None:
    ticket = reply.ticket
    _queue("agent_replied", [ticket.email], ticket=ticket, language=ticket.language, reply=reply)


def information_requested(reply: Reply) -> None:
    ticket = reply.ticket
    _queue(
        "information_requested",
        [ticket.email],
        ticket=ticket,
        language=ticket.language,
        reply=reply,
    )


def ticket_resolved(ticket: Ticket) -> None:
    _queue(
        "ticket_resolved",
        [ticket.email],
        ticket=ticket,
        language=ticket.language,
        rating_url=ratings.rating_url(ticket),
    )


def ticket_closed(ticket: Ticket) -> None:
    """Closed by staff without a resolution ("Cerrado"): told like a resolved one."""
    _queue(
        "ticket_closed",
        [ticket.email],
        ticket=ticket,
        language=ticket.language,
        rating_url=ratings.rating_url(ticket),
    )


def ticket_merged(duplicate: Ticket, main: Ticket) -> None:
    """Both requesters hear that the duplicate now lives in the main ticket (once if the same person)."""
    for t in {duplicate.email: duplicate, main.email: main}.values():
        _queue(
            "ticket_merged",
            [t.email],
            ticket=t,
            language=t.language,
            duplicate=duplicate,
            main=main,
        )


def tickets_closed_automatically(tickets: Iterable[Ticket]) -> None:
    """Each ticket's notice, all written at once (``bulk.insert``): cron closes stalled tickets in batches.

    Notices alike but for the ticket's own values are rendered once (``_render_alike``).
    """
    tickets = list(tickets)
    urls = ratings.rating_urls(tickets)
    groups: dict[tuple, list[tuple[Ticket, dict[str, str]]]] = {}
    for ticket in tickets:
        shown = _shown_values(ticket, urls[ticket.pk])
        empty = frozenset(name for name, value in shown.items() if not value)
        groups.setdefault((ticket.language, ticket.status, empty), []).append((ticket, shown))
    rows = []
    for (language, _status, _empty), group in groups.items():
        rows += _render_alike("ticket_closed_automatically", group, language)
    _save(rows, many=True)


def _shown_values(ticket: Ticket, rating_url: str) -> dict[str, str]:
    """What a ticket's automatic notice shows of it; the rest is the same for all."""
    # As a template shows them: str() of each.
    return {
        "name": str(ticket.name),
        "tracking_id": str(ticket.tracking_id),
        "number": str(ticket.number),
        "category": str(ticket.category),
        "region": str(ticket.region),
        "project_number": str(ticket.project_number),
        "rating_url": rating_url,
    }


def _render_alike(
    kind: str, tickets: list[tuple[Ticket, dict[str, str]]], language: str
) -> list[OutgoingEmail]:
    """``_render`` for tickets whose messages differ only in their ``_shown_values``.

    The templates are rendered once for a stand-in ticket whose values are random
    markers; each ticket's values then replace them (escaped in the HTML part): string
    replacements instead of three templates per notice, a third of the CPU of a batch of
    close_stalled_tickets (benchmarks/RESULTS.md). The first ticket is also rendered in
    full and compared: a template whose output depends on a value beyond showing it (a
    filter, a condition) gets every ticket rendered in full, and a warning in the log.
    The tickets of one call have the same empty values: those are not marked.
    """

    def render(ticket: Ticket, rating_url: str, to: str) -> list[OutgoingEmail]:
        return _render(kind, [to], ticket=ticket, language=language, rating_url=rating_url)

    first, shown = tickets[0]
    marks = {name: _mark() if value else "" for name, value in shown.items()}
    stand_in = copy.copy(first)
    for field in ("name", "tracking_id", "number", "project_number"):
        if marks[field]:
            setattr(stand_in, field, marks[field])
    for field in ("category", "region"):
        if marks[field]:
            setattr(stand_in, field, type(getattr(first, field))(name=marks[field]))
    (marked,) = render(stand_in, marks["rating_url"], "stand-in@example.invalid")

    def fill(values: dict[str, str]) -> tuple[str, str, str]:
        subject, text, html = marked.subject, marked.body_text, marked.body_html
        for name, mark in marks.items():
            if mark:
                subject = subject.replace(mark, " ".join(values[name].split()))
                text = text.replace(mark, values[name])
                html = html.replace(mark, escape(values[name]))
        return subject[:250], text, html

    full = render(first, shown["rating_url"], first.email)
    if any(fill(shown) != (row.subject, row.body_text, row.body_html) for row in full):
        log.warning("emails: %s shows more than a ticket's values; rendered one by one", kind)
        rows = list(full)
        for ticket, values in tickets[1:]:
            rows += render(ticket, values["rating_url"], ticket.email)
        return rows
    rows = list(full)
    for ticket, values in tickets[1:]:
        rows += _rows(kind, [ticket.email], ticket, *fill(values))
    return rows


def forgotten_ids(email: str, tickets: list[Ticket], *, language: str = "es") -> None:
    _queue("forgotten_ids", [email], language=language, tickets=tickets, email=email)


# --- to agents ---------------------------------------------------------------------------
def requester_replied(reply: Reply) -> None:
    ticket = reply.ticket
    # An assignee who has left (deactivated) is as good as none.
    if ticket.assignee_id and ticket.assignee.is_active and ticket.assignee.email:
        recipients = {ticket.assignee.email}
    else:
        recipients = agent_addresses(ticket)
    _queue("requester_replied", recipients, ticket=ticket, reply=reply)


def ticket_assigned(ticket: Ticket) -> None:
    if ticket.assignee and ticket.assignee.email:
        _queue("ticket_assigned", [ticket.assignee.email], ticket=ticket)


def lookup_abuse_alert(
    *, failed: int, budget: int, period_minutes: int, window_start: datetime
) -> None:
    """Failed tracking-ID look-ups passed the global budget: someone may be guessing IDs."""
    User = get_user_model()
    q = User.objects.filter(is_active=True, groups__name="Supervisores").exclude(email="")
    recipients = set(q.values_list("email", flat=True)) or {settings.HELPDESK_NOTIFY_EMAIL}
    _queue(
        "lookup_abuse_alert",
        recipients,
        failed=failed,
        budget=budget,
        period_minutes=period_minutes,
        window_start=window_start,
        delay=settings.LOOKUP_ABUSE_DELAY,
    )


# --- to whoever wrote to the desk --------------------------------------------------------
def inbound_unmatched(address):
    """An e-mail that matched no ticket: where to open one (tickets/inbound.py limits it)."""
    _queue("inbound_unmatched", [address], language="es")
