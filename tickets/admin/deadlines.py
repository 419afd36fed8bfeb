"""The queue's deadline column in business time: "vence en 3 h hábiles", "vencido hace 2 días hábiles".

Worked out for a page of tickets at once, each in its region's calendar, with one
query for the extra days off of every region (NonWorkingDay), however many rows.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext, ngettext

from tickets import business_calendar
from tickets.models import NonWorkingDay

HOURS_A_DAY = 8
# A deadline further than this from now is described from the calendar days' side
# ("hace más de …"): counting every working period of a year-old ticket on each page
# view would cost more than the precision is worth.
WINDOW = timedelta(days=120)


def _days_off(tickets, now) -> dict:
    """{region_id: frozenset of extra days off (national ones included)} for the page's tickets."""
    today = timezone.localtime(now, business_calendar.TIME_ZONE).date()
    first, last = today - WINDOW - timedelta(days=1), today + WINDOW + timedelta(days=1)
    return NonWorkingDay.dates_by_region({t.region_id for t in tickets}, first, last)


def describe(hours: float) -> str:
    if hours < 1:
        return gettext("menos de 1 h hábil")
    if hours < HOURS_A_DAY:
        n = int(hours)
        return ngettext("%(n)d h hábil", "%(n)d h hábiles", n) % {"n": n}
    n = round(hours / HOURS_A_DAY)
    return ngettext("%(n)d día hábil", "%(n)d días hábiles", n) % {"n": n}


def label(ticket, now, extra_days) -> tuple[str, bool]:
    """(text, overdue) for one ticket's staff deadline; ("", False) when none runs."""
    due = ticket.staff_due_at
    if due is None:
        return "", False
    subdiv = ticket.region.holiday_subdiv
    start, end = (now, due) if due >= now else (due, now)
    capped = max(start, end - WINDOW)
    hours = (
        business_calendar.business_hours_between(
            capped, end, subdiv=subdiv, extra_days=extra_days
        ).total_seconds()
        / 3600
    )
    span = describe(hours)
    if capped != start:
        span = gettext("más de %(span)s") % {"span": span}
    if due >= now:
        return gettext("vence en %(span)s") % {"span": span}, False
    return gettext("vencido hace %(span)s") % {"span": span}, True


def annotate(tickets, now=None) -> None:
    """Sets ``deadline_text`` and ``deadline_overdue`` on each ticket of a page."""
    tickets = list(tickets)
    if not tickets:
        return
    now = now or timezone.now()
    days_off = _days_off(tickets, now)
    for t in tickets:
        t.deadline_text, t.deadline_overdue = label(t, now, days_off.get(t.region_id, ()))
