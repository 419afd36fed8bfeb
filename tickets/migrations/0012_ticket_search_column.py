"""The free-text search reads a stored column of folded text, PostgreSQL only (tickets/search.py).

Migration 0005 indexed the expression ``unaccent(lower(name || email || subject ||
message))``, so every row the index could not rule out had the expression worked out
again to check the match: about 11 µs a row (unaccent 9, lower 2), which made a
search matching 12,000 tickets cost 140 ms to count, a two-letter term (no trigram to
look up) 800 ms to scan, and the queue's newest-first walk through a few thousand
rows 60 ms (benchmarks/search.py, benchmarks/RESULTS.md). Stored once per write,
the folded text is checked at under 1 µs a row. It is a generated column, so every
write of the four fields (anonymisation and erasure included) rewrites it, and no
copy of personal data outlives the original.

Adding the column rewrites the table under an exclusive lock: about 20 s at 100,000
tickets. The four columns it is made of can no longer change type while it exists
(PostgreSQL: "cannot alter type of a column used by a generated column"): a
migration that widens one drops the column first and adds it back after, with
FORWARD below.
"""

from django.db import migrations

# The text of migration 0005's index, now stored (the same expression, so the same matches).
FOLDED = (
    "tickets_immutable_unaccent(lower("
    "coalesce(name, '') || ' ' || coalesce(email, '') || ' ' || "
    "coalesce(subject, '') || ' ' || coalesce(message, '')))"
)
FORWARD = [
    "DROP INDEX IF EXISTS ticket_search_trgm",
    f"ALTER TABLE tickets_ticket ADD COLUMN search_folded text GENERATED ALWAYS AS ({FOLDED}) STORED",
    "CREATE INDEX ticket_search_trgm ON tickets_ticket USING gin (search_folded gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS ticket_search_trgm",
    "ALTER TABLE tickets_ticket DROP COLUMN IF EXISTS search_folded",
    f"CREATE INDEX ticket_search_trgm ON tickets_ticket USING gin ({FOLDED} gin_trgm_ops)",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0011_agent_workspace")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
