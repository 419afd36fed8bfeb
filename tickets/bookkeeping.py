"""Writes that keep records rather than decide anything: rate-limit counters, the access
log of the public pages and sessions.

On PostgreSQL every commit waits until the write-ahead log is on disk: about 3.5 ms on
this project's machines, more than the rest of a ticket page (benchmarks/RESULTS.md).
These writes commit without waiting (``synchronous_commit`` off for their own
transaction). PostgreSQL's documented price: a crash of the database server can lose
what was committed in its last fraction of a second (at most three ``wal_writer_delay``,
600 ms by default); it never corrupts anything or half-applies a transaction. Tickets,
replies, e-mails and every other transaction still wait for the disk.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

# Sent in the same round trip as the statement it applies to (see _without_waiting).
WITHOUT_WAITING = "SET LOCAL synchronous_commit TO OFF; "


@contextmanager
def bookkeeping() -> Iterator[None]:
    """Writes that commit without waiting for the disk.

    On PostgreSQL each statement in the block is its own transaction, sent in one round
    trip with the setting that lets it commit without waiting: a counter, an access-log
    row or a session is one statement, and BEGIN, SET LOCAL and COMMIT as statements of
    their own were three of the four round trips of each (issue 17). Elsewhere the block
    is one transaction.

    Inside a transaction already under way it adds nothing, not even a savepoint: the
    writes are part of that transaction and share its commit, which must stay durable.
    """
    if connection.in_atomic_block or _without_waiting in connection.execute_wrappers:
        yield
        return
    if connection.vendor == "postgresql":
        with connection.execute_wrapper(_without_waiting):
            yield
        return
    with transaction.atomic():
        yield


def _without_waiting(execute, sql, params, many, context):
    # A statement Django runs in a transaction of its own making (a savepoint, a
    # multi-table save) or a batch keeps the durable path; only a lone statement in
    # autocommit is sent as PostgreSQL's implicit transaction of two statements, in
    # which SET LOCAL applies to the second. Psycopg's client-side binding (Django's
    # default) sends it with the simple query protocol, which allows that.
    if many or connection.in_atomic_block or connection.features.uses_server_side_binding:
        return execute(sql, params, many, context)
    result = execute(WITHOUT_WAITING + sql, params, many, context)
    # The cursor starts on the SET's empty result: move to the statement's own rows and
    # row count, which the caller reads.
    context["cursor"].nextset()
    return result
