"""Agents' free-text search over tickets: the requester's name and address, subject, message.

Accent- and case-insensitive ("rendicion" finds "Rendición"). On PostgreSQL the text
is matched through a trigram GIN index (pg_trgm) on one expression that folds case and
accents, created by migration 0005_ticket_search; ``LIKE '%…%'`` on that expression uses
the index, so a search costs milliseconds at 100,000 tickets instead of a table scan.
SQLite, used in development and tests, folds accents of the stored text itself only for
ASCII, so it gets a plain ``icontains`` over each field: slower, and accent-sensitive.
"""

import unicodedata

from django.db import connections
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

# The expression of the index (migration 0005_ticket_search): the planner only uses the
# index for a WHERE clause on the same expression. Columns are qualified because the queue
# joins category and region, which have a "name" too; the planner matches them all the same.
SEARCH_TEXT_SQL = (
    "tickets_immutable_unaccent(lower("
    "coalesce(tickets_ticket.name, '') || ' ' || coalesce(tickets_ticket.email, '') || ' ' || "
    "coalesce(tickets_ticket.subject, '') || ' ' || coalesce(tickets_ticket.message, '')))"
)


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
