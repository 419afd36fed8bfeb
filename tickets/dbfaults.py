"""Work outside a request that must outlive a dropped database connection.

A failover, a restart of PostgreSQL or an administrator's ``pg_terminate_backend``
kills every open connection. A request meets it once (Django checks its
connection before each request, ``CONN_HEALTH_CHECKS``), but a cron command or
the outbox's sender thread holds one connection for its whole life and would
otherwise fail on every query after the cut, or stop half-way through its run.

``reconnecting(unit, what=...)`` runs one unit of work; when the connection is
lost it closes it (the next query opens a fresh one), waits a moment and runs
the unit again, a few times, logging each cut. Use it for units that are
idempotent by state, which is what every periodic command here does already:

- a unit is one transaction (or one statement in autocommit), so a cut rolls
  it back whole: never half done;
- the unit claims its rows by compare-and-swap (``filter(pk=…, status=seen)
  .update(…)``), so running it again after an ambiguous cut (the connection
  died during COMMIT) finds the work done and does nothing: never done twice;
- the unit reads what it needs again on each run (a retried batch re-reads its
  rows), and keeps its counts local until it returns.

For a command, the cursor (the last primary key done) lives outside the unit,
so a retried batch starts where the cut one started::

    after = 0
    while True:
        pks = dbfaults.reconnecting(lambda: self.delete_batch(q, after), what="purge_old_records")
        if not pks:
            break
        after = pks[-1]

and inside a unit, a handler that records a row's failure and moves on must let
a lost connection through, or the cut would be counted as that row's fault::

    except Exception as exc:
        if dbfaults.connection_lost(exc):
            raise
        ...

Must be called outside ``transaction.atomic()``: inside one, the transaction
belongs to the caller, and only the caller can run it again; there the error
is raised unchanged.
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, close_old_connections, connection

log = logging.getLogger(__name__)
T = TypeVar("T")

# What a dead connection raises: psycopg's "terminating connection due to
# administrator command" and "the connection is closed" are OperationalError,
# a query on a connection Django already knows is closed an InterfaceError.
LOST = (OperationalError, InterfaceError)
# Seconds to wait before each new try: long enough for a restarted server to
# accept connections again, short enough that a cron run is not held up.
BACKOFF = (0.05, 0.25, 1.0)


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` came from a connection that no longer works (not from one bad row)."""
    if not isinstance(exc, LOST):
        return False
    if connection.connection is None:
        return True
    # A lock timeout or a deadlock is an OperationalError on a healthy connection:
    # that is the row's failure, for the caller's usual handling.
    return not connection.is_usable()


def ensure_usable_connection() -> None:
    """Before a unit of work outside a request: drop this thread's connection if it is broken.

    What Django does at the start of each request; a thread or command that
    lives longer than a request calls it before each batch. Also checks a
    connection that died while idle, which has raised nothing yet.
    """
    close_old_connections()
    if connection.connection is None or connection.in_atomic_block:
        return
    if connection.is_usable():
        # Checked just now: Django's own check (CONN_HEALTH_CHECKS), which
        # close_old_connections() re-armed, would send a second SELECT 1 with the
        # first query. The after-commit sender calls this for every new ticket.
        connection.health_check_done = True
    else:
        connection.close()


def reconnecting(unit: Callable[[], T], *, what: str, backoff: tuple = BACKOFF) -> T:
    """Run ``unit()``; when the database connection is lost, reconnect and run it again.

    Tries ``len(backoff) + 1`` times; the last failure is raised (the database
    is really down: cron's next run starts over). ``what`` names the unit in
    the log. Only for idempotent units, outside any transaction (see above).
    """
    for wait in (*backoff, None):
        try:
            return unit()
        except LOST as exc:
            if connection.in_atomic_block or wait is None:
                raise
            log.warning(
                "%s: database connection lost (%s: %s); reconnecting and trying again",
                what,
                type(exc).__name__,
                str(exc).strip().splitlines()[0] if str(exc).strip() else "",
            )
            connection.close()
            time.sleep(wait)
    raise AssertionError("unreachable")  # the loop returns or raises
