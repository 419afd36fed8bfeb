"""Rate-limit counters in the database: one atomic statement per hit.

Used when the database is the shared store (``RATELIMIT_STORE = "database"``: DEBUG=0
and no CACHE_URL). Django's database cache reads then writes on ``incr``, so two
workers counting at once could both write 5; here each hit is one
``INSERT … ON CONFLICT DO UPDATE SET count = count + 1 RETURNING count``, which
PostgreSQL and SQLite (3.35+) run atomically: the row is locked from the update to
the commit, so no count is lost and each request sees its own number. The ORM has
no increment-on-conflict that returns the new value, hence the SQL.

Keys carry their window's number, so a window's row is never reset, only deleted
once expired: when a key starts a new row, the expired ones go. Counts are
bookkeeping (``tickets.bookkeeping``): their commits do not wait for the disk.
"""

import time
from datetime import datetime

from django.db import connection
from django.utils import timezone

from tickets.bookkeeping import bookkeeping

# On tickets.models.RateLimitCounter's table, named here rather than imported: the
# models import the e-mails, which import the rate limits, which import this.
INCREMENT = (
    "INSERT INTO tickets_ratelimitcounter (key, count, expires_at) VALUES (%s, 1, %s) "
    "ON CONFLICT (key) DO UPDATE SET count = tickets_ratelimitcounter.count + 1 RETURNING count"
)
DELETE_EXPIRED = "DELETE FROM tickets_ratelimitcounter WHERE expires_at < %s"
CURRENT = "SELECT count FROM tickets_ratelimitcounter WHERE key = %s"
# A new key sweeps the expired ones away, at most once a minute per process: a busy
# site starts new keys all the time, and one sweep a minute keeps the table small.
SWEEP_SECONDS = 60
_swept_at = -SWEEP_SECONDS


def increment(key: str, *, expires_at: datetime) -> int:
    """Add one to ``key``'s count (creating it at 1) and return the new count."""
    global _swept_at
    now = time.time()
    with bookkeeping(), connection.cursor() as cursor:
        cursor.execute(INCREMENT, [key, connection.ops.adapt_datetimefield_value(expires_at)])
        count = cursor.fetchone()[0]
        if count == 1 and now - _swept_at >= SWEEP_SECONDS:
            _swept_at = now
            cursor.execute(
                DELETE_EXPIRED, [connection.ops.adapt_datetimefield_value(timezone.now())]
            )
    return count


def current(key: str) -> int:
    """``key``'s count, 0 if it has none."""
    with connection.cursor() as cursor:
        cursor.execute(CURRENT, [key])
        row = cursor.fetchone()
    return row[0] if row else 0
