"""One function per message. Each renders a template triplet into outbox rows.

Called inside the transaction of the change that causes the message, so the
mail exists if and only if the change does. ``send_queued_mail`` sends them.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.template.defaultfilters import linebreaksbr
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from tickets import bulk, outbox, ratelimit, ratings
from tickets.addresses import display_address
from tickets.models.outgoing_email import OutgoingEmail

if TYPE_CHECKING:  # emails is imported by models/ticket.py: only the type checker may look back up
    from tickets.models.ticket import Reply, Ticket

log = logging.getLogger(__name__)
fragments = caches["fragments"]

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
    return hand_over(rows)


def hand_over(rows: list[OutgoingEmail]) -> list[OutgoingEmail]:
    """Rows just written: the sendable ones go to the outbox once their transaction commits."""
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
    # Here, not at the top: reference_choices reads the models, which import this module.
    from tickets import reference_choices

    by_category, by_region = reference_choices.routing()
    addresses = by_category.get(ticket.category_id, frozenset()) | by_region.get(
        ticket.region_id, frozenset()
    )
    return set(addresses) or {settings.HELPDESK_NOTIFY_EMAIL}


def _mark() -> str:
    """A stand-in for a value in a template rendered once and filled in afterwards: random,
    so that no text a person typed can be taken for one."""
    return f"mark{secrets.token_hex(12)}"


# --- to the requester ----------------------------------------------------------------
@dataclass
class NewTicketMail:
    """A new ticket's messages, rendered before the ticket is saved.

    ``rows()`` gives them unsaved, with what the ticket already knows filled in; where
    the id and the number go (not known yet on PostgreSQL, see ``Ticket.open``) they
    show ``marks["pk"]`` and ``marks["number"]``. ``queue()`` saves them once both are
    known.
    """

    rows: Callable[[], list[OutgoingEmail]]
    marks: dict[str, str]

    def queue(self) -> list[OutgoingEmail]:
        return _save(self.rows())


# What a new ticket's messages show of the ticket itself; everything else in them is the
# same for every ticket of one language, category and region.
NEW_TICKET_VALUES = ("name", "email", "tracking_id", "project_number", "message", "number", "pk")
# One set per process: a kept rendering and the statement that writes the number in
# (Ticket.open) must agree on them. Never shown to anyone.
_NEW_TICKET_MARKS = {name: _mark() for name in NEW_TICKET_VALUES}
# The values the kept renderings are proved on: markup, entities, quotes, line breaks,
# spaces a subject collapses and an address staff must see in its ASCII form.
_PROBE = {
    "name": 'Ana  <b>"O\'Higgins"</b> & Cía',
    "email": "josé@peñalolén.cl",
    "tracking_id": "AB7-CD8-EF9G",
    "project_number": "4242",
    "message": "Línea 1 <i>&amp;</i>\n\nLínea 3 'fin' & más\n",
    "number": "98765",
    "pk": "43210",
}
KEPT_SECONDS = 3600


def ticket_created(ticket: Ticket) -> NewTicketMail:
    """The confirmation and the agents' notice of an unsaved ticket.

    ``Ticket.open`` takes the number in the statement that writes the ticket and these
    messages: the counter's row stays locked until the commit and every other
    submission waits for it (benchmarks/RESULTS.md, issue 17). So the id and the number
    are filled in by that statement (on SQLite, where they are known first, by
    ``rows()``).

    Each message is rendered once per language, category and region, with markers for
    the ticket's own values (``_kept_rendering``), and filled in per ticket: six
    templates were a sixth of a submission's CPU. Tests compare the result with a full
    rendering.
    """
    agents = agent_addresses(ticket)
    # An anonymous form that mails any address it is given would be a spam relay: past
    # the per-address limit the ticket is still created, and staff still hear of it, but
    # no confirmation goes out (ratelimit.allow logs it). Counted here, before the
    # ticket's transaction, whose commit would otherwise hold the address's counter row
    # (a submission that then fails still counts: the limit errs on the safe side).
    confirm = ratelimit.allow("confirmation_email", ticket.email)
    messages = [("new_ticket_agents", agents, "es")]
    if confirm:
        messages.insert(0, ("ticket_created", [ticket.email], ticket.language))
    marks = _NEW_TICKET_MARKS
    kept = [(kind, to, _kept_rendering(kind, ticket, language)) for kind, to, language in messages]
    stand_in = copy.copy(ticket)
    stand_in.number, stand_in.pk = marks["number"], marks["pk"]
    # A message the kept rendering cannot give is rendered here in full, for a stand-in
    # whose number and id are markers.
    full = {
        kind: _render(kind, to, ticket=stand_in, language=language)
        for (kind, to, language), (_k, _t, parts) in zip(messages, kept, strict=True)
        if parts is None
    }

    def rows() -> list[OutgoingEmail]:
        values = _new_ticket_values(ticket)
        rows = []
        for kind, to, parts in kept:
            if parts is None:
                done = full[kind]
                for row in done:
                    row.subject, row.body_text, row.body_html = _fill(
                        (row.subject, row.body_text, row.body_html),
                        {k: values[k] for k in ("number", "pk") if k in values},
                        lambda _name, value, _part: value,
                    )
                    row.ticket = ticket
                rows += done
            else:
                rows += _rows(kind, to, ticket, *_fill(parts, values, _shown))
        return rows

    return NewTicketMail(rows, {name: marks[name] for name in ("number", "pk")})


def _new_ticket_values(ticket: Ticket) -> dict[str, str]:
    """The values to fill in, as str() (what a template shows); the id and number once known."""
    return {
        name: str(getattr(ticket, name))
        for name in NEW_TICKET_VALUES
        if getattr(ticket, name) is not None
    }


def _shown(name: str, value: str, part: str) -> str:
    """``value`` as the new-ticket templates show it in ``part``: the proof in
    ``_kept_rendering`` fails (and the messages are rendered in full) if they differ."""
    if name == "email":
        value = display_address(value)  # the templates' staff_address filter
    if part == "subject":
        return " ".join(value.split())
    if part == "html":
        return linebreaksbr(value, autoescape=True) if name == "message" else escape(value)
    return value


def _fill(
    parts: tuple[str, str, str], values: dict[str, str], shown, marks=_NEW_TICKET_MARKS
) -> tuple[str, str, str]:
    """Each of ``marks`` named in ``values`` replaced in one pass by ``shown(name, value,
    part)``: a value is never searched for markers."""
    if not values:
        return parts
    by_mark = {marks[name]: name for name in values}
    pattern = re.compile("|".join(by_mark))
    subject, text, html = (
        pattern.sub(lambda m, part=part: shown(by_mark[m[0]], values[by_mark[m[0]]], part), body)
        for part, body in zip(("subject", "text", "html"), parts, strict=True)
    )
    return subject[:250], text, html


def _kept_rendering(kind: str, ticket: Ticket, language: str) -> tuple[str, str, str] | None:
    """``kind`` rendered for ``ticket``'s language, category and region with markers for
    its own values, once per process (or None: render in full).

    Proved when first rendered: filled in with awkward values (``_PROBE``), it must equal
    the full rendering of a ticket with those values. A template that does more with a
    value than show it (a filter, a condition) fails the proof, and its messages are then
    rendered in full, with a warning in the log.
    """
    # Here, not at the top: reference_choices reads the models, which import this module.
    from tickets import reference_choices

    key = "|".join(
        map(
            str,
            (
                kind,
                language,
                ticket.category_id,
                ticket.region_id,
                reference_choices.generation(),
                settings.PUBLIC_SITE_URL,
                settings.SITE_NAME,
                settings.INBOUND_EMAIL_ADDRESS,
            ),
        )
    )
    key = "emails:kept:" + hashlib.sha256(key.encode()).hexdigest()
    found = fragments.get(key)
    if found is None:
        found = _prove(kind, ticket, language) or "render in full"
        fragments.set(key, found, KEPT_SECONDS)
    return None if found == "render in full" else found


def _prove(kind: str, ticket: Ticket, language: str) -> tuple[str, str, str] | None:
    def rendered(values: dict[str, str]) -> tuple[str, str, str]:
        stand_in = copy.copy(ticket)
        for name, value in values.items():
            setattr(stand_in, name, value)
        (row,) = _render(kind, ["stand-in@example.invalid"], ticket=stand_in, language=language)
        return row.subject, row.body_text, row.body_html

    parts = rendered(_NEW_TICKET_MARKS)
    if _fill(parts, _PROBE, _shown) != rendered(_PROBE):
        log.warning("emails: %s shows more than a ticket's values; rendered in full", kind)
        return None
    return parts


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
        parts = (marked.subject, marked.body_text, marked.body_html)
        marked_values = {name: value for name, value in values.items() if marks[name]}
        return _fill(parts, marked_values, _shown, marks)

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
