"""The category and region lists of the public form, from the process's cache.

Each select read its table twice a page (Django's ModelChoiceField queries to render
the options and again to decide on ``required``): four queries, half the form's time.
The lists change only when an administrator edits a category or a region; the
worker that saved forgets its copy at once (``forget``, connected in apps.py) and
the others within CHOICES_SECONDS. What a POST sends is still checked against the
table by the form's ModelChoiceField.
"""

from django.core.cache import caches
from django.db.models import QuerySet

CHOICES_SECONDS = 60
KEY = "reference-choices:{}"
GENERATION = "reference-choices:generation"

fragments = caches["fragments"]


def choices(queryset: QuerySet) -> list[tuple[int, str]]:
    """[(pk, label), …] of ``queryset``, read at most once a CHOICES_SECONDS per process."""
    key = KEY.format(queryset.model._meta.label_lower)
    found = fragments.get(key)
    if found is None:
        found = [(obj.pk, str(obj)) for obj in queryset]
        fragments.set(key, found, CHOICES_SECONDS)
    return found


def generation() -> int:
    """A number that changes whenever this process forgets a list: pages built from the
    lists (the blank form, tickets/views/blank_form.py) put it in their cache keys."""
    return fragments.get_or_set(GENERATION, 0, None)


def forget(sender, **kwargs) -> None:
    fragments.delete(KEY.format(sender._meta.label_lower))
    try:
        fragments.incr(GENERATION)
    except ValueError:
        fragments.set(GENERATION, 1, None)
