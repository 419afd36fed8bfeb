"""What the ticket page showed, as a hidden field: the "changed meanwhile" check.

A version is the ticket's ``updated_at`` plus its newest reply and history row (an
internal note changes neither the ticket row nor its history) and the values of the
fields the agent may change, so that a send on a page that is out of date is refused
and the page can say what changed.
"""

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from django.db.models import Max

from tickets.models import Reply, TicketEvent

EDITED = ("status", "priority", "category", "assignee")


@dataclass(frozen=True)
class Version:
    stamp: str
    reply_id: int = 0
    event_id: int = 0
    values: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.stamp}|{urlencode(self.values)}"


def _values(initial: dict) -> dict[str, str]:
    return {name: "" if initial.get(name) is None else str(initial.get(name)) for name in EDITED}


def _make(updated_at, reply_id, event_id, initial) -> Version:
    stamp = f"{updated_at.isoformat()}|{reply_id or 0}|{event_id or 0}"
    return Version(stamp, reply_id or 0, event_id or 0, _values(initial))


def of_page(ticket, replies, events, initial) -> Version:
    """From what the page already loaded: no query."""
    return _make(
        ticket.updated_at,
        max((r.pk for r in replies), default=0),
        max((e.pk for e in events), default=0),
        initial,
    )


def of_ticket(ticket, initial) -> Version:
    """The ticket as stored now: two indexed look-ups (one join of both would multiply rows)."""
    reply = Reply.objects.filter(ticket=ticket).aggregate(m=Max("pk"))["m"]
    event = TicketEvent.objects.filter(ticket=ticket).aggregate(m=Max("pk"))["m"]
    return _make(ticket.updated_at, reply, event, initial)


def parse(text: str) -> Version | None:
    try:
        updated, reply, event, values = text.split("|", 3)
        values = dict(parse_qsl(values, keep_blank_values=True))
        return Version(f"{updated}|{reply}|{event}", int(reply), int(event), values)
    except ValueError:
        return None
