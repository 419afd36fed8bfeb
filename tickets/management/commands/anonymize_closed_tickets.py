"""Erase the personal data of tickets finished long ago. Cron runs it nightly:

    30 3 * * *  cd /srv/mesaayuda && .venv/bin/python manage.py anonymize_closed_tickets

A ticket "Resuelto" or "Cerrado" whose closed_at is more than RETENTION_MONTHS
months ago (default 24) loses its requester's name, e-mail, IP, subject and
message, its replies' text and IPs, its attachments (files and rows) and its
outgoing e-mails, through ``Ticket.anonymize``. Number, category, region,
project number, status, priority and dates stay for statistics. A reopened
ticket has no closed_at and waits until it is finished again.

Idempotent by state: an anonymized ticket's address ends in "@invalid", and
``anonymize`` claims the row under a lock, so reruns and overlapping runs do
nothing twice. Tickets are read in batches by primary key, and the cursor moves
past each one, so a ticket that keeps failing is tried once per run. A lost
database connection rolls the cut ticket back whole; it and the batch read are
tried again on a fresh connection (tickets/dbfaults.py).
"""

import calendar
import logging
from collections import Counter
from functools import partial

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tickets import dbfaults, tracking
from tickets.models import Status, Ticket

log = logging.getLogger(__name__)


def months_before(moment, months):
    """The same wall-clock moment ``months`` calendar months earlier (31 March - 1 month = 28/29 February)."""
    year, month = divmod(moment.year * 12 + (moment.month - 1) - months, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def due(cutoff):
    return (
        Ticket.objects.filter(status__in=[Status.RESOLVED, Status.CLOSED], closed_at__lt=cutoff)
        .exclude(email__endswith=Ticket.ANONYMIZED_EMAIL_SUFFIX)
        .order_by("pk")
    )


class Command(BaseCommand):
    help = (
        "Anonimiza los tickets resueltos o cerrados hace más de RETENTION_MONTHS meses: borra nombre, "
        "e-mail, IP, mensajes y adjuntos, y conserva número, categoría, región, estado, prioridad y fechas."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Contar los tickets que se anonimizarían, sin cambiar nada.",
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
        months = settings.RETENTION_MONTHS
        cutoff = months_before(timezone.localtime(), months)
        since = f"closed before {cutoff:%Y-%m-%d}, retention {months} months"
        if dry_run:
            count = due(cutoff).count()
            self.stdout.write(
                f"would anonymize {count} tickets ({since}); dry run, nothing changed"
            )
            return
        counts = self.run(cutoff, batch_size)
        self.stdout.write(
            f"anonymized {counts['anonymized']} tickets, deleted {counts['files']} files, "
            f"skipped {counts['skipped']}, errors {counts['errors']} ({since})"
        )

    def run(self, cutoff, batch_size) -> Counter:
        counts = Counter()
        after = 0
        while True:
            q = due(cutoff).filter(pk__gt=after).only("pk", "number", "tracking_id")[:batch_size]
            batch = dbfaults.reconnecting(partial(list, q), what="anonymize_closed_tickets")
            if not batch:
                return counts
            after = batch[-1].pk
            for ticket in batch:
                try:
                    # Claimed under a lock and skipped once done, so a second try after
                    # an ambiguous cut (during COMMIT) finds it anonymized: "skipped".
                    files = dbfaults.reconnecting(
                        ticket.anonymize,
                        what=f"anonymize_closed_tickets: ticket #{ticket.number}",
                    )
                except Exception as exc:
                    if dbfaults.connection_lost(exc):
                        raise  # the database is down for good: the next run starts over
                    # Rolled back whole: still due, tried again by the next run.
                    log.error(
                        "anonymize_closed_tickets: ticket #%s %s failed",
                        ticket.number,
                        tracking.short(ticket.tracking_id),
                        exc_info=True,
                    )
                    counts["errors"] += 1
                    continue
                if files is None:
                    counts["skipped"] += 1  # another run got there first
                else:
                    counts["anonymized"] += 1
                    counts["files"] += files
            if len(batch) < batch_size:
                return counts
