"""Transactions that keep records rather than decide anything: rate-limit counters and
the access log of the public pages.

On PostgreSQL every commit waits until the write-ahead log is on disk: about 3.5 ms on
this project's machines, more than the rest of a ticket page (benchmarks/RESULTS.md).
These transactions commit without waiting (``synchronous_commit`` off for that one
transaction). PostgreSQL's documented price: a crash of the database server can lose
what was committed in its last fraction of a second (at most three ``wal_writer_delay``,
600 ms by default); it never corrupts anything or half-applies a transaction. Tickets,
replies, e-mails and every other transaction still wait for the disk.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def bookkeeping() -> Iterator[None]:
    """A transaction of its own that commits without waiting for the disk.

    Inside a transaction already under way it adds nothing, not even a savepoint: the
    writes are part of that transaction and share its commit, which must stay durable.
    """
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield
