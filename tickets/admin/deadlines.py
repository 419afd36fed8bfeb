"""The queue's deadline column in business time: "vence en 3 h hábiles", "vencido hace 2 días hábiles".

Worked out for a page of tickets at once, each in its region's calendar, with the
extra days off of every region (NonWorkingDay) read at most once a minute per process.
"""

from collections import defaultdict
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext, ngettext

from tickets import business_calendar, reference_choices

HOURS_A_DAY = 8
# A deadline further than this from now is described from the calendar days' side
# ("hace más de …"): counting every working period of a year-old ticket on each page
# view would cost more than the precision is worth.
WINDOW = timedelta(days=120)


def _days_off(now) -> dict:
    """{region_id: frozenset of extra days off (national ones included)} around now."""
    today = timezone.localtime(now, business_calendar.TIME_ZONE).date()
    first, last = today - WINDOW - timedelta(days=1), today + WINDOW + timedelta(days=1)
    return reference_choices.days_off(today, first, last)


def describe(hours: float) -> str:
    if hours < 1:
        return gettext("menos de 1 h hábil")
    if hours < HOURS_A_DAY:
        n = int(hours)
        return ngettext("%(n)d h hábil", "%(n)d h hábiles", n) % {"n": n}
    n = round(hours / HOURS_A_DAY)
    return ngettext("%(n)d día hábil", "%(n)d días hábiles", n) % {"n": n}


def _text(hours: float, *, overdue: bool, capped: bool) -> str:
    span = describe(hours)
    if capped:
        span = gettext("más de %(span)s") % {"span": span}
    if overdue:
        return gettext("vencido hace %(span)s") % {"span": span}
    return gettext("vence en %(span)s") % {"span": span}


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
    overdue = due < now
    return _text(hours, overdue=overdue, capped=capped != start), overdue


def annotate(tickets, now=None) -> None:
    """Sets ``deadline_text`` and ``deadline_overdue`` on each ticket of a page.

    Overdue tickets of one region are measured back from now in one walk of its
    calendar (``business_hours_since``): a page of tickets months late walks those
    months once per region, not once per row.
    """
    tickets = list(tickets)
    if not tickets:
        return
    now = now or timezone.now()
    days_off = _days_off(now)
    late = defaultdict(list)
    for t in tickets:
        if t.staff_due_at is not None and t.staff_due_at < now:
            late[t.region_id].append(t)
        else:
            t.deadline_text, t.deadline_overdue = label(t, now, days_off.get(t.region_id, ()))
    for region_id, group in late.items():
        starts = [max(t.staff_due_at, now - WINDOW) for t in group]
        hours = business_calendar.business_hours_since(
            starts,
            now,
            subdiv=group[0].region.holiday_subdiv,
            extra_days=days_off.get(region_id, ()),
        )
        for t, start, spent in zip(group, starts, hours, strict=True):
            capped = start != t.staff_due_at
            t.deadline_text = _text(spent.total_seconds() / 3600, overdue=True, capped=capped)
            t.deadline_overdue = True
