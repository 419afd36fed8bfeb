"""A trigram index for the agents' free-text search (tickets/search.py), PostgreSQL only.

unaccent() is only STABLE (its dictionary could change), so an index cannot use it
directly; the usual answer is an IMMUTABLE wrapper that names the dictionary. pg_trgm
and unaccent are "trusted" extensions since PostgreSQL 13: the database owner may
create them without being a superuser.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """
    CREATE OR REPLACE FUNCTION tickets_immutable_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$
    """,
    """
    CREATE INDEX IF NOT EXISTS ticket_search_trgm ON tickets_ticket USING gin (
        tickets_immutable_unaccent(lower(
            coalesce(name, '') || ' ' || coalesce(email, '') || ' ' ||
            coalesce(subject, '') || ' ' || coalesce(message, '')))
        gin_trgm_ops)
    """,
]
BACKWARD = [
    "DROP INDEX IF EXISTS ticket_search_trgm",
    "DROP FUNCTION IF EXISTS tickets_immutable_unaccent(text)",
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
    dependencies = [("tickets", "0004_privacy")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
