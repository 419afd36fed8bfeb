"""Agents' free-text search over tickets: the requester's name and address, subject, message.

Accent- and case-insensitive ("rendicion" finds "Rendición"). On PostgreSQL the four
fields are stored once more, folded (lower case, no accents), in a generated column
with a trigram GIN index (pg_trgm; migrations 0005_ticket_search and
0012_ticket_search_column): ``LIKE '%…%'`` on it uses the index, and each row the
index cannot rule out is checked against the stored text instead of folding it again,
so a search costs milliseconds at 100,000 tickets (benchmarks/search.py). The column is
not a model field: only this module reads it (migration 0012 says what changing the type
of one of the four fields then takes).

A term of one or two characters ("pe", "x") is looked for at the start of a word: "pe"
finds Pérez, Peña and juan.pedraza@…, not López. Anywhere inside a word it matched most
tickets (69,610 of 100,000 for "pe"), which helps nobody, and it had no trigram to look
up, so a rare one read the whole column twice (the page, then its count: 250 ms for
"qq"). pg_trgm stores padded trigrams for the start of every word ("  p", " pe"), so a
word start is an index look-up (benchmarks/RESULTS.md, 2026-12-05 05:00). The queue's
help text tells agents so.

SQLite, used in development and tests, folds accents of the stored text itself only for
ASCII, so it gets a plain ``icontains`` over each field (a regular expression for word
starts): slower, and accent-sensitive.
"""

import re
import string
import unicodedata

from django.db import connections
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

# What is searched; on PostgreSQL, folded into one column (migration 0012).
SEARCHED_FIELDS = ("name", "subject", "message", "email")
# The folded text (migration 0012), qualified so that no join can make it ambiguous.
SEARCH_TEXT_SQL = "tickets_ticket.search_folded"
# A term shorter than this has no trigram of its own: it is searched as a word start.
SHORT_TERM = 3
# What separates words in the folded text: whitespace and ASCII punctuation, which is all
# there is once unaccent has turned «», ¿¡, curly quotes and dashes into ASCII. Listed
# rather than negated ([^[:alnum:]]): pg_trgm takes trigrams from a bracket only when it
# holds few characters, so the negated class would be a scan again (EXPLAIN says so).
WORD_GAP = r"[ \t\n\r\f\v!-/:-@[-`{-~]"
# Up to this many matches of a short term are fetched by id (_word_start_on_postgresql).
FEW_MATCHES = 1000


def fold(text: str) -> str:
    """Lower case without accents, as PostgreSQL's unaccent(lower(…)) folds Spanish text."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def is_short(term: str) -> bool:
    return len(fold(term.strip())) < SHORT_TERM


def word_start_pattern(folded: str) -> str:
    """A PostgreSQL regular expression for words of the folded text that start with ``folded``."""
    escaped = "".join(f"\\{c}" if c in string.punctuation else c for c in folded)
    return f"(^|{WORD_GAP}){escaped}"


def search_text(queryset: QuerySet, term: str) -> QuerySet:
    """Tickets whose name, e-mail, subject or message contain ``term``.

    A term of one or two characters must start a word; one with neither a letter nor a
    digit ("?", "--") then starts none, and finds nothing.
    """
    if is_short(term):
        return _search_word_start(queryset, term)
    if connections[queryset.db].vendor == "postgresql":
        # The user's text is a parameter, never part of the SQL (hence the `# nosec`).
        match = RawSQL(  # nosec
            f"{SEARCH_TEXT_SQL} LIKE %s", [like_pattern(fold(term))], output_field=BooleanField()
        )
        return queryset.filter(match)
    return queryset.filter(_any_field("icontains", term))


def _search_word_start(queryset: QuerySet, term: str) -> QuerySet:
    term = term.strip()
    if not any(c.isalnum() for c in term):
        return queryset.none()
    if connections[queryset.db].vendor == "postgresql":
        return _word_start_on_postgresql(queryset, fold(term))
    # Python's regular expressions (Django's REGEXP on SQLite) know every letter, accented
    # ones included, so a word start is simply "not after a letter or digit".
    pattern = rf"(^|[\W_]){re.escape(term)}"
    return queryset.filter(_any_field("iregex", pattern))


def _any_field(lookup: str, value: str) -> Q:
    """SQLite's search: ``lookup`` on any of the searched fields."""
    q = Q()
    for field in SEARCHED_FIELDS:
        q |= Q(**{f"{field}__{lookup}": value})
    return q


def _word_start_on_postgresql(queryset: QuerySet, folded: str) -> QuerySet:
    """The index is asked first (one query) whether the word start is rare.

    The planner guesses how many tickets a pattern matches by trying it on a sample of
    about 100 texts, so one chance hit makes a word start found in 60 tickets look like
    1 % of them: the queue then walks its newest-first index through the whole table to
    fill a page (over 50 ms for 36 of the 702 one- and two-letter terms at 100,000
    tickets, up to 480 ms). Fetched through the index, up to FEW_MATCHES ids cost a few
    milliseconds whatever the term; if that is all there is, the list is those ids
    (ordered and counted exactly, by primary key); if not, the term is common enough for
    the walk to fill a page within a few thousand tickets. A ticket written between the
    two queries shows up on the next page load.
    """
    pattern = word_start_pattern(folded)
    # The LIKE is redundant for the result; it lowers the planner's guess (two conditions
    # taken as independent), so the look-up goes through the index unless the term is
    # very common, when reading the table in order finds FEW_MATCHES rows at once.
    probe = RawSQL(  # nosec
        f"{SEARCH_TEXT_SQL} LIKE %s AND {SEARCH_TEXT_SQL} ~ %s",
        [like_pattern(folded), pattern],
        output_field=BooleanField(),
    )
    ids = list(queryset.order_by().filter(probe).values_list("pk", flat=True)[: FEW_MATCHES + 1])
    if not ids:
        # An empty IN list compiles to no SQL at all, which the paginator's EXPLAIN cannot read.
        return queryset.none()
    if len(ids) <= FEW_MATCHES:
        return queryset.filter(pk__in=ids)
    match = RawSQL(f"{SEARCH_TEXT_SQL} ~ %s", [pattern], output_field=BooleanField())  # nosec
    return queryset.filter(match)
