"""Lists read from small tables that rarely change, kept in the process's cache.

The public form's category and region selects read each table twice a page (Django's
ModelChoiceField queries to render the options and again to decide on ``required``):
four queries, half the form's time. The queue's filters read the same tables, the
staff list and the days off on every page; every new ticket reads the days off and
which agents its category and region notify. These change only when an administrator
edits a category, a region, a staff account, a day off or who is notified; the worker that saved
forgets its copies at once (``forget``, connected in apps.py) and the others within
CHOICES_SECONDS. What a POST sends is checked against the same kept rows (``rows``):
within CHOICES_SECONDS of a change made in another worker, a category just deactivated
there can still be chosen. A filter's value is checked against the table by its query.

The lists are kept in the process's own memory (``_kept``), not in a cache that
pickles: a submission read four of them, and unpickling the category and region rows
cost more than their query. They are shared by the process's threads: read-only.
"""

import secrets
import time
from collections.abc import Callable
from datetime import date

from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db.models import QuerySet

from tickets.models import Category, NonWorkingDay, Region

CHOICES_SECONDS = 60
GENERATION = "reference-choices:generation"
# Past this many lists kept, the expired ones go (days off are kept per date).
KEPT_MAX = 256

fragments = caches["fragments"]
_kept: dict = {"generation": None, "lists": {}}


def _kept_list(key: str, read: Callable):
    """``read()``, called at most once a CHOICES_SECONDS per process and generation."""
    global _kept
    kept = _kept
    current = generation()
    if kept["generation"] != current:
        # Replaced whole: a thread still reading the old one is not disturbed.
        kept = _kept = {"generation": current, "lists": {}}
    lists = kept["lists"]
    now = time.monotonic()
    found = lists.get(key)
    if found is None or found[0] <= now:
        if len(lists) >= KEPT_MAX:
            for old in [k for k, (until, _) in list(lists.items()) if until <= now]:
                lists.pop(old, None)
        found = (now + CHOICES_SECONDS, read())
        lists[key] = found
    return found[1]


def choices(
    queryset: QuerySet, *, variant: str = "form", label: Callable = str
) -> list[tuple[int, str]]:
    """[(pk, label(obj)), …] of ``queryset``, read at most once a CHOICES_SECONDS per process.

    ``variant`` names the list when one table gives several (the form's active
    categories, the queue filter's every category).
    """
    return _kept_list(
        f"{queryset.model._meta.label_lower}:{variant}",
        lambda: [(obj.pk, label(obj)) for obj in queryset],
    )


def rows(queryset: QuerySet, *, variant: str = "form") -> dict[int, object]:
    """{pk: obj} of ``queryset``, read at most once a CHOICES_SECONDS per process (the
    new-ticket POST's category and region, without a query each)."""
    return _kept_list(
        f"{queryset.model._meta.label_lower}:{variant}:rows",
        lambda: {obj.pk: obj for obj in queryset},
    )


def routing() -> tuple[dict[int, frozenset[str]], dict[int, frozenset[str]]]:
    """The addresses of the active agents each category and each region routes new
    tickets to: ({category pk: addresses}, {region pk: addresses})."""
    return _kept_list("routing", _read_routing)


def _read_routing():
    agents = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .exclude(email="")
        .values_list("pk", "email")
    )
    email = dict(agents)
    return tuple(
        _grouped(
            (owner, email[user])
            for owner, user in through.objects.values_list(field, "user_id")
            if user in email
        )
        for through, field in (
            (Category.agents.through, "category_id"),
            (Region.agents.through, "region_id"),
        )
    )


def _grouped(pairs) -> dict[int, frozenset[str]]:
    groups = {}
    for owner, address in pairs:
        groups.setdefault(owner, set()).add(address)
    return {owner: frozenset(addresses) for owner, addresses in groups.items()}


def days_off(today: date, start: date, end: date) -> dict[int, frozenset[date]]:
    """``NonWorkingDay.dates_by_region`` of every region from ``start`` to ``end``, kept
    per ``today`` (the span moves with it)."""
    return _kept_list(
        f"days-off:{today}:{start}:{end}",
        lambda: NonWorkingDay.dates_by_region(
            Region.objects.values_list("pk", flat=True), start, end
        ),
    )


def generation() -> int:
    """A number that changes whenever this process forgets its lists: pages built from
    them (the blank form, the ticket page; tickets/views/filled_in.py) and the lists'
    own keys carry it."""
    # A random start: after the cache is cleared (a restart, a test) no list kept under
    # an earlier number can be taken for a current one.
    return fragments.get_or_set(GENERATION, lambda: secrets.randbits(48), None)


def forget(sender, **kwargs) -> None:
    try:
        fragments.incr(GENERATION)
    except ValueError:
        fragments.set(GENERATION, secrets.randbits(48), None)
