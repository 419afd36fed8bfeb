"""Close the tickets whose requester did not answer in time. Cron runs it every 10 minutes:

    */10 * * * *  cd /srv/mesaayuda && .venv/bin/python manage.py close_stalled_tickets

A ticket in "Respondido" whose requester deadline (REQUESTER_RESPONSE_HOURS
working hours after the last public agent reply) has passed becomes "Cerrado"
when that reply asked for information, "Resuelto" otherwise, through
``Ticket.close_stalled_batch``. "En curso" and "En espera" never close by themselves.

Due tickets are read in batches ordered by (requester_due_at, pk), one query
per batch, and each batch is closed at once in one transaction: its rows are
locked (on PostgreSQL SELECT … FOR NO KEY UPDATE SKIP LOCKED; SQLite's write
lock is the whole database's) and claimed by one UPDATE, then the
history, the system replies and the notices are written with one INSERT each
(on PostgreSQL a COPY, after one SELECT of their keys: tickets/bulk.py),
about seven queries per batch whatever its size. Overlapping runs (two nodes, a
rerun after a crash) never close a ticket twice or send two notices: a ticket
another run holds is skipped, one it has closed is no longer "Respondido".

A batch that fails is rolled back whole and closed again one ticket at a time,
each in its own savepoint, so a ticket that keeps failing is rolled back alone,
is tried once per run and cannot hold back the others; the cursor moves past
every ticket it has seen, so it cannot hold the loop either. The notices are
queued in the outbox and sent by send_queued_mail. A lost database connection
rolls the whole batch back; the batch is read and closed again on a fresh
connection (tickets/dbfaults.py), and its counts only count once it commits.
"""

import logging
from collections import Counter
from functools import partial

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation

from tickets import dbfaults, outbox, tracking
from tickets.models import Status, Ticket

log = logging.getLogger(__name__)


def due_batch(now, size, after=None) -> list[Ticket]:
    """At most ``size`` tickets due at ``now`` after the cursor ``after``, oldest deadline first.

    Keyset pagination rather than "the first N still due": a ticket that failed
    to close is still due, and would otherwise come back at the head of every
    batch. Tickets whose deadline passes during the run wait for the next run.
    ``after`` is the (requester_due_at, pk) of the last ticket seen.
    """
    q = (
        Ticket.objects.filter(status=Status.ANSWERED, requester_due_at__lte=now)
        # The notice shows both; without them each ticket would cost two more queries.
        .select_related("region", "category")
        .order_by("requester_due_at", "pk")
    )
    if after is not None:
        due, pk = after
        # The first condition alone is a range on the (status, requester_due_at) index.
        q = q.filter(requester_due_at__gte=due).filter(Q(requester_due_at__gt=due) | Q(pk__gt=pk))
    return list(q[:size])


class Command(BaseCommand):
    help = (
        "Cierra los tickets en estado Respondido cuyo plazo del solicitante venció: Cerrado si se "
        "solicitó información, Resuelto si no. Cron lo ejecuta cada 10 minutos."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Listar los tickets que se cerrarían, sin cambiar nada.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=200,
            help="Tickets leídos por consulta (por defecto 200).",
        )

    def handle(self, *, dry_run, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        now = timezone.now()
        # History labels and the summary in the site's language, whatever the shell's.
        # The notices leave through send_queued_mail: sending each one from an
        # after-commit thread would start one thread (and one database connection)
        # per closed ticket, killed half-way when this short-lived process exits.
        with (
            translation.override(settings.LANGUAGE_CODE),
            outbox.deferred_to_cron(),
        ):
            counts = self.run(now, batch_size, dry_run)
            closed = counts[Status.CLOSED] + counts[Status.RESOLVED]
            detail = f"{Status.CLOSED.label} {counts[Status.CLOSED]}, {Status.RESOLVED.label} {counts[Status.RESOLVED]}"
            if dry_run:
                self.stdout.write(f"would close {closed} ({detail}); dry run, nothing changed")
            else:
                self.stdout.write(
                    f"closed {closed} ({detail}), skipped {counts['skipped']}, errors {counts['errors']}"
                )

    def run(self, now, batch_size, dry_run) -> Counter:
        counts = Counter()
        after = None
        while True:
            read, last, done = dbfaults.reconnecting(
                partial(self.one_batch, now, batch_size, after, dry_run),
                what="close_stalled_tickets",
            )
            counts.update(done)
            if read < batch_size:
                return counts
            after = last

    def one_batch(self, now, size, after, dry_run):
        """Read one batch and close it in one transaction; the unit a lost connection repeats.

        Returns how many tickets it read, the cursor past the last one, and its counts.
        """
        batch = due_batch(now, size, after)
        if not batch:
            return 0, after, Counter()
        # Before closing: closing a ticket clears its requester_due_at.
        last = (batch[-1].requester_due_at, batch[-1].pk)
        counts = Counter()
        if dry_run:
            for ticket in batch:
                new = Status.CLOSED if ticket.awaiting_information else Status.RESOLVED
                self.stdout.write(self.describe(ticket, new))
                counts[new] += 1
        else:
            # One commit per batch: a commit waits for the disk, and 10,000 of them made a
            # SQLite run take minutes instead of seconds. The price: the batch's tickets
            # stay locked until it commits (well under a second), and a reply racing
            # with one of them waits that long.
            with transaction.atomic():
                self.close_batch(batch, now, counts)
        return len(batch), last, counts

    def close_batch(self, batch, now, counts):
        try:
            closed = Ticket.close_stalled_batch(batch, now)
        except Exception as exc:
            if dbfaults.connection_lost(exc):
                raise  # the whole batch is gone with the connection: run() repeats it
            # Rolled back to the batch's savepoint, tickets and copies alike: one at a
            # time now, so that whatever failed fails alone.
            log.warning(
                "close_stalled_tickets: a batch of %s tickets failed to close at once; "
                "closing them one at a time",
                len(batch),
                exc_info=True,
            )
            for ticket in batch:
                self.close_one(ticket, now, counts)
            return
        for ticket in closed:
            self.count_closed(ticket, counts)
        # Another run holds or closed them, or the requester or an agent wrote meanwhile.
        counts["skipped"] += len(batch) - len(closed)

    def close_one(self, ticket, now, counts):
        try:
            closed = ticket.close_stalled(now)
        except Exception as exc:
            if dbfaults.connection_lost(exc):
                raise
            # Rolled back to its savepoint, so the ticket is untouched and still due:
            # the next run tries again, and the cursor keeps this run moving.
            log.error(
                "close_stalled_tickets: ticket #%s %s failed to close",
                ticket.number,
                tracking.short(ticket.tracking_id),
                exc_info=True,
            )
            counts["errors"] += 1
            return
        if closed:
            self.count_closed(ticket, counts)
        else:
            counts["skipped"] += 1

    @staticmethod
    def count_closed(ticket, counts):
        log.info(
            "close_stalled_tickets: ticket #%s %s closed as %s",
            ticket.number,
            tracking.short(ticket.tracking_id),
            # Lazy: translated only if the line is logged (cron logs warnings only).
            Status(ticket.status).label,
        )
        counts[ticket.status] += 1

    @staticmethod
    def describe(ticket, new) -> str:
        due = timezone.localtime(ticket.requester_due_at).strftime("%Y-%m-%d %H:%M")
        return f"#{ticket.number} {tracking.short(ticket.tracking_id)} -> {new.label} (plazo {due})"
