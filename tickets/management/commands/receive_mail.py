"""Read one e-mail on standard input and act on it: for an MTA that pipes mail in.

    # /etc/aliases (then run newaliases):
    mesaayuda: "|/srv/mesaayuda/bin/receive-mail"

where that script is ``cd /srv/mesaayuda && exec .venv/bin/python manage.py receive_mail``
(docs/deployment.md shows it, and the Postfix ``pipe`` transport). Exit status 0 once
the message is stored (applied, ignored or held for staff alike); 75 (EX_TEMPFAIL)
only when it could not be stored, so the MTA keeps it and tries again.
"""

import logging
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from tickets import inbound

log = logging.getLogger(__name__)
EX_TEMPFAIL = 75
CHUNK = 1024 * 1024
# A message too big to read is still recorded: its headers are in this first part.
HEAD = 256 * 1024


class Command(BaseCommand):
    # call_command("receive_mail", stdin=...) in tests and benchmarks.
    stealth_options = ("stdin",)
    help = "Lee un correo por la entrada estándar (tubería del MTA) y lo agrega a su ticket."

    def handle(self, **options):
        stdin = options.get("stdin") or sys.stdin.buffer
        raw, size = read_limited(stdin, settings.INBOUND_MAX_SIZE)
        try:
            row = inbound.receive(raw, source="pipe", size=size)
        except Exception:
            # Only storing the row can fail here (inbound.receive keeps a message it
            # cannot apply): the database is unreachable. The MTA keeps the message.
            log.exception("receive_mail: message not stored; the MTA will retry")
            self.stderr.write("message not stored (temporary failure); the MTA will retry")
            sys.exit(EX_TEMPFAIL)
        if row is None:
            self.stdout.write("duplicate: this Message-ID was already received")
        else:
            self.stdout.write(f"{row.state}: {row.reason}")


def read_limited(stream, limit: int) -> tuple[bytes, int]:
    """The whole message when it is at most ``limit`` bytes, else only its head; and its size.

    Past the limit the rest is read and dropped: an MTA whose pipe is closed early
    would report a failure and retry the same oversized message for days.
    """
    head, chunks, size = b"", [], 0
    while chunk := stream.read(CHUNK):
        if len(head) < HEAD:
            head += chunk[: HEAD - len(head)]
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        elif chunks:
            chunks = []
    return (b"".join(chunks) if size <= limit else head), size
