"""Read the desk's IMAP mailbox (INBOUND_IMAP_URL) and act on each message. Cron, every minute:

    * * * * *  cd /srv/mesaayuda && .venv/bin/python manage.py fetch_mail

Each message is stored and applied exactly once, however many runs overlap (the
Message-ID is claimed by a unique insert), then moved to INBOUND_IMAP_DONE_FOLDER.
"""

import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from imap_tools.errors import MailboxLoginError

from tickets import mailbox

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Lee el buzón IMAP de la Mesa de Ayuda (INBOUND_IMAP_URL) y agrega las respuestas a sus tickets."

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-seconds",
            type=float,
            default=50,
            help="No empezar un lote nuevo pasados estos segundos (por defecto 50, menos que el intervalo de cron).",
        )

    def handle(self, *, max_seconds, **options):
        if not settings.INBOUND_IMAP_URL:
            raise CommandError("INBOUND_IMAP_URL is not set (see .env.example)")
        if max_seconds <= 0:
            raise CommandError("--max-seconds must be positive")
        try:
            run = mailbox.fetch(settings.INBOUND_IMAP_URL, max_seconds=max_seconds)
        except (OSError, MailboxLoginError) as exc:
            log.warning("fetch_mail: cannot read the mailbox", exc_info=True)
            raise CommandError(f"mailbox unreachable ({type(exc).__name__}: {exc})"[:300]) from exc
        self.stdout.write(run.summary())
