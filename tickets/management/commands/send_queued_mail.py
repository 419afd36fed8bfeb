"""Send the e-mails waiting in the outbox. Cron runs it every minute:

    * * * * *  cd /srv/mesaayuda && .venv/bin/python manage.py send_queued_mail

Rows are claimed before they are sent, a batch of 20 at a time (outbox.BATCH), so
overlapping runs (or a run next to the after-commit thread) never send a message
twice, and a sender that dies re-sends at most one batch. --max-seconds keeps a run
shorter than the cron interval when the mail server is slow; rows it claimed but
did not reach are given back at once. A lost database connection costs a
reconnect: each step is tried again on a fresh one, the sent state first of all
(tickets/outbox.py, tickets/dbfaults.py).
"""

from django.core.management.base import BaseCommand, CommandError

from tickets import dbfaults, outbox
from tickets.models import OutgoingEmail


class Command(BaseCommand):
    help = (
        "Envía los correos en cola (reintentos con espera creciente). Cron lo ejecuta cada minuto."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Enviar a lo más N mensajes.")
        parser.add_argument(
            "--max-seconds",
            type=float,
            default=50,
            help="No empezar un envío nuevo pasados estos segundos (por defecto 50, menos que el intervalo de cron).",
        )

    def handle(self, *, limit, max_seconds, **options):
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        if max_seconds <= 0:
            raise CommandError("--max-seconds must be positive")
        run = outbox.send_due(limit=limit, max_seconds=max_seconds)
        queued = dbfaults.reconnecting(
            OutgoingEmail.objects.filter(state__in=outbox.PENDING).count,
            what="send_queued_mail: counting",
        )
        line = f"sent {run.sent}, failed {run.failed}, still queued {queued}"
        if run.unreachable:
            line += f"; mail server unreachable ({run.unreachable})"
        self.stdout.write(line)
