"""Statements, wall time and CPU of one ``send_due`` call, in-process, with the dummy mail backend.

    DATABASE_URL=postgres://… .venv/bin/python benchmarks/outbox_send_due.py [--repeat 50]

Two shapes: the after-commit sender's (``send_due(ids=…)`` for a new ticket's 2 rows)
and cron's (``send_due()`` with 2 and 200 rows due). No SMTP server: the dummy backend
accepts everything, so what is left is the outbox's own work and its database round
trips. CPU is this process's only (the database server's is not counted). Rows of
kind "benchmark" are deleted before each call and at the end.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import common

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        sys.exit("set DATABASE_URL (a database of your own: its benchmark rows are deleted)")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mesaayuda.settings",
        DEBUG="1",
        EMAIL_URL="dummymail://",
        EMAIL_SEND_ON_COMMIT="0",
        LOG_LEVEL="WARNING",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tickets import outbox
    from tickets.models import OutgoingEmail

    call_command("migrate", verbosity=0)
    # DEBUG=1 spares the production settings' checks; off again here so that timing
    # does not include Django's query log (CaptureQueriesContext counts regardless).
    settings.DEBUG = False

    def queue(n):
        OutgoingEmail.objects.filter(kind="benchmark").delete()
        # The Message-ID as emails._rows writes it; one each, so not through **fields.
        rows = common.benchmark_messages(range(n))
        for row in rows:
            row.message_id = outbox.new_message_id()
        OutgoingEmail.objects.bulk_update(rows, ["message_id"])
        return [r.pk for r in rows]

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(f"{'shape':<28} {'statements':>10} {'wall ms (median)':>17} {'cpu ms (median)':>16}")
    for label, n, by_ids in [
        ("after commit, 2 rows", 2, True),
        ("cron, 2 rows", 2, False),
        ("cron, 200 rows", 200, False),
    ]:
        repeat = args.repeat if n < 100 else max(args.repeat // 5, 3)
        ids = queue(n)
        with CaptureQueriesContext(connection) as ctx:
            run = outbox.send_due(ids=ids) if by_ids else outbox.send_due()
        assert run.sent == n, run
        statements = len(ctx)
        walls, cpus = [], []
        for _ in range(repeat):
            ids = queue(n)
            wall, cpu = time.perf_counter(), time.process_time()
            run = outbox.send_due(ids=ids) if by_ids else outbox.send_due()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            assert run.sent == n, run
        print(
            f"{label:<28} {statements:>10} {statistics.median(walls) * 1000:>17.2f} "
            f"{statistics.median(cpus) * 1000:>16.2f}"
        )
    OutgoingEmail.objects.filter(kind="benchmark").delete()


if __name__ == "__main__":
    main()
