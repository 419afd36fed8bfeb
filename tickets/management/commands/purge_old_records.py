"""Delete records kept only for a while. Cron runs it nightly:

    45 3 * * *  cd /srv/mesaayuda && .venv/bin/python manage.py purge_old_records

Sent notification e-mails older than SENT_EMAIL_RETENTION_DAYS (by when they were
sent; default 90) and access-log rows older than ACCESS_LOG_RETENTION_DAYS
(default 730). Queued and failed e-mails stay: they are work, not records.

Deleted in batches of primary keys, so that no statement locks a large part of a
table or holds a long transaction. Idempotent by state: what is deleted is gone,
so a rerun or an overlapping run finds only what is left (each batch deletes
"these pks, if still old", so two runs never fail on each other's work). A batch
cut by a lost database connection is read and deleted again on a fresh one
(tickets/dbfaults.py).
"""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tickets import dbfaults
from tickets.models import AccessLog, OutgoingEmail


def old_emails(now):
    cutoff = now - timedelta(days=settings.SENT_EMAIL_RETENTION_DAYS)
    return OutgoingEmail.objects.filter(state=OutgoingEmail.State.SENT, sent_at__lt=cutoff)


def old_accesses(now):
    return AccessLog.objects.filter(
        created_at__lt=now - timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS)
    )


class Command(BaseCommand):
    help = (
        "Borra los correos enviados hace más de SENT_EMAIL_RETENTION_DAYS días y el registro de accesos "
        "de hace más de ACCESS_LOG_RETENTION_DAYS días."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Contar lo que se borraría, sin borrar nada."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Filas borradas por consulta (por defecto 1000).",
        )

    def handle(self, *, dry_run, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        now = timezone.now()
        emails, accesses = old_emails(now), old_accesses(now)
        days = (
            f"e-mails sent over {settings.SENT_EMAIL_RETENTION_DAYS} days ago, "
            f"access-log rows over {settings.ACCESS_LOG_RETENTION_DAYS} days old"
        )
        if dry_run:
            self.stdout.write(
                f"would delete {emails.count()} e-mails and {accesses.count()} access-log rows ({days}); "
                "dry run, nothing changed"
            )
            return
        sent = self.delete_in_batches(emails, batch_size)
        logged = self.delete_in_batches(accesses, batch_size)
        self.stdout.write(f"deleted {sent} e-mails and {logged} access-log rows ({days})")

    def delete_in_batches(self, q, size) -> int:
        total, after = 0, 0
        while True:
            pks, deleted = dbfaults.reconnecting(
                partial(self.delete_batch, q, after, size), what="purge_old_records"
            )
            if not pks:
                return total
            after = pks[-1]
            total += deleted

    @staticmethod
    def delete_batch(q, after, size) -> tuple[list[int], int]:
        pks = list(q.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:size])
        # Filtered again: a row re-sent (back to "queued") since we read it is no longer old,
        # and one another run deleted meanwhile simply counts as nothing.
        return pks, (q.filter(pk__in=pks).delete()[0] if pks else 0)
