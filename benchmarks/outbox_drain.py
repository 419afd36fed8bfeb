"""Queue 10,000 e-mails and drain them to a local SMTP sink; print the rates and peak memory.

    .venv/bin/python benchmarks/outbox_drain.py [--messages 10000]

Runs against a throwaway SQLite file unless DATABASE_URL is set (then its rows,
of kind "benchmark", are deleted at the end). The sink is aiosmtpd in a child
process, so its work is not counted against the sender's CPU or memory.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

ROOT = Path(__file__).resolve().parent.parent

SINK = """
import socket, sys
from aiosmtpd.controller import Controller

class Count:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Count.n += len(envelope.rcpt_tos)
        return "250 OK"

s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
c = Controller(Count(), hostname="127.0.0.1", port=port, server_hostname="localhost")
c.start()
print(port, flush=True)
sys.stdin.read()  # until the parent closes it
c.stop()
print(Count.n, flush=True)
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument(
        "--sqlite-wal",
        action="store_true",
        help="SQLite in WAL mode with synchronous=NORMAL (one fsync per checkpoint, not per commit)",
    )
    args = parser.parse_args()

    sink = subprocess.Popen(
        [sys.executable, "-c", SINK], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    port = int(sink.stdout.readline())

    tmp = tempfile.TemporaryDirectory(prefix="outbox-bench-")
    own_db = "DATABASE_URL" not in os.environ
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp.name}/bench.sqlite3")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mesaayuda.settings",
        DEBUG="1",
        EMAIL_URL=f"smtp://127.0.0.1:{port}",
        EMAIL_SEND_ON_COMMIT="0",
        LOG_LEVEL="WARNING",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from tickets import outbox
    from tickets.models import OutgoingEmail

    if args.sqlite_wal and connection.vendor == "sqlite":
        connection.settings_dict["OPTIONS"]["init_command"] = (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        )
    call_command("migrate", verbosity=0)
    OutgoingEmail.objects.filter(kind="benchmark").delete()

    started = time.perf_counter()
    # In chunks, so that queueing does not set the memory peak.
    for first in range(0, args.messages, 500):
        common.benchmark_messages(range(first, min(first + 500, args.messages)))
    queued_in = time.perf_counter() - started

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    run = outbox.send_due()
    drained_in = time.perf_counter() - started
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    sink.stdin.close()
    received = int(sink.stdout.readline())
    sink.wait()
    left = (
        OutgoingEmail.objects.filter(kind="benchmark")
        .exclude(state=OutgoingEmail.State.SENT)
        .count()
    )
    if not own_db:
        OutgoingEmail.objects.filter(kind="benchmark").delete()

    wal = " WAL" if args.sqlite_wal and connection.vendor == "sqlite" else ""
    print(f"database:        {connection.vendor}{wal} ({settings.DATABASES['default']['NAME']})")
    print(
        f"queued:          {args.messages} messages in {queued_in:.2f} s ({args.messages / queued_in:,.0f} msg/s)"
    )
    print(
        f"drained:         {run.sent} sent, {run.failed} failed in {drained_in:.2f} s ({run.sent / drained_in:,.0f} msg/s)"
    )
    print(f"sink received:   {received}; rows not sent: {left}")
    print(f"peak RSS:        {rss_peak / 1024:.1f} MB (before draining {rss_before / 1024:.1f} MB)")
    tmp.cleanup()
    if received != args.messages or left:
        sys.exit("the drain lost or duplicated messages")


if __name__ == "__main__":
    main()
