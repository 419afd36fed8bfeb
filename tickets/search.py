"""Agents' free-text search over tickets: the requester's name and address, subject, message.

Accent- and case-insensitive ("rendicion" finds "Rendición"). On PostgreSQL the four
fields are stored once more, folded (lower case, no accents), in a generated column
with a trigram GIN index (pg_trgm; migrations 0005_ticket_search and
0012_ticket_search_column): ``LIKE '%…%'`` on it uses the index, and each row the
index cannot rule out is checked against the stored text instead of folding it again,
so a search costs milliseconds at 100,000 tickets (benchmarks/search.py). The column is
not a model field: only this module reads it (migration 0012 says what changing the type
of one of the four fields then takes). Terms under three characters have no trigram to
look up, and are a scan of that column.
SQLite, used in development and tests, folds accents of the stored text itself only for
ASCII, so it gets a plain ``icontains`` over each field: slower, and accent-sensitive.
"""

import unicodedata

from django.db import connections
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

# The folded text (migration 0012), qualified so that no join can make it ambiguous.
SEARCH_TEXT_SQL = "tickets_ticket.search_folded"


def fold(text: str) -> str:
    """Lower case without accents, as PostgreSQL's unaccent(lower(…)) folds Spanish text."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_text(queryset: QuerySet, term: str) -> QuerySet:
    """Tickets whose name, e-mail, subject or message contain ``term``."""
    if connections[queryset.db].vendor == "postgresql":
        # The user's text is a parameter, never part of the SQL (hence the `# nosec`).
        match = RawSQL(  # nosec
            f"{SEARCH_TEXT_SQL} LIKE %s", [like_pattern(fold(term))], output_field=BooleanField()
        )
        return queryset.filter(match)
    return queryset.filter(
        Q(name__icontains=term)
        | Q(subject__icontains=term)
        | Q(message__icontains=term)
        | Q(email__icontains=term)
    )
