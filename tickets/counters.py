"""Rate-limit counters in the database: one atomic statement per hit.

Used when the database is the shared store (``RATELIMIT_STORE = "database"``: DEBUG=0
and no CACHE_URL). Django's database cache reads then writes on ``incr``, so two
workers counting at once could both write 5; here each hit is one
``INSERT … ON CONFLICT DO UPDATE SET count = count + 1 RETURNING count``, which
PostgreSQL and SQLite (3.35+) run atomically: the row is locked from the update to
the commit, so no count is lost and each request sees its own number. The ORM has
no increment-on-conflict that returns the new value, hence the SQL.

Keys carry their window's number, so a window's row is never reset, only deleted
once expired: when a key starts a new row, the expired ones go.
"""

from datetime import datetime

from django.db import connection
from django.utils import timezone

# tickets.models.RateLimitCounter; named here rather than imported, because the
# models import the e-mails, which import the rate limits, which import this.
TABLE = "tickets_ratelimitcounter"


def increment(key: str, *, expires_at: datetime) -> int:
    """Add one to ``key``'s count (creating it at 1) and return the new count."""
    table = connection.ops.quote_name(TABLE)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, count, expires_at) VALUES (%s, 1, %s) "  # nosec B608  # table name is a constant
            f"ON CONFLICT (key) DO UPDATE SET count = {table}.count + 1 RETURNING count",
            [key, connection.ops.adapt_datetimefield_value(expires_at)],
        )
        count = cursor.fetchone()[0]
        if count == 1:
            cursor.execute(
                f"DELETE FROM {table} WHERE expires_at < %s",  # nosec B608
                [connection.ops.adapt_datetimefield_value(timezone.now())],
            )
    return count


def current(key: str) -> int:
    """``key``'s count, 0 if it has none."""
    table = connection.ops.quote_name(TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count FROM {table} WHERE key = %s", [key])  # nosec B608
        row = cursor.fetchone()
    return row[0] if row else 0
