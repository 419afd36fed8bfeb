"""Build 100,000 tickets of which 10,000 are stalled, run close_stalled_tickets, print its cost.

    .venv/bin/python benchmarks/close_stalled.py [--tickets 100000] [--stalled 10000] [--batch-size 200]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mesaayuda_bench_close .venv/bin/python benchmarks/close_stalled.py

Without DATABASE_URL it works on a throwaway SQLite file in /tmp. With a
PostgreSQL DATABASE_URL the database is dropped and created afresh, and dropped
again at the end (--keep leaves it); to protect other people's data, only a
database whose name starts with "mesaayuda_bench" is ever touched.

The tickets are built by a child process (migrate + bulk_create), so the
figures printed for the command are those of a process that did nothing else:
a dry run, the real run, and a second run that must find nothing to do. Peak
memory is the process's maximum resident set size (ru_maxrss); --tracemalloc
adds the Python heap peak of the real run (and slows it down). The command's CPU
time (Python's side only, not the database server's) moves less than the wall
time when other work shares the machine: compare it first.
"""

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

from common import postgres_admin, tracking_id

ROOT = Path(__file__).resolve().parent.parent
SAFE_PREFIX = "mesaayuda_bench"
MESSAGE = (
    "Estimados, no puedo ingresar la rendición del proyecto en SIGEC.\n"
    "Al presionar «Enviar» aparece «Error inesperado» y el documento queda en borrador.\n"
    "Adjunto pantallazo. Quedo atento, saludos cordiales."
)


# --- environment -------------------------------------------------------------------------
def configure_environment():
    if "DATABASE_URL" not in os.environ:
        tmp = tempfile.mkdtemp(prefix="mesaayuda-bench-close-", dir="/tmp")
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        os.environ["BENCH_TMP_DIR"] = tmp  # the child inherits it; the parent removes it
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mesaayuda.settings",
        # Production-like: no query log kept in memory by DEBUG.
        DEBUG="0",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY", "benchmark-only-" + "x" * 60),
        PUBLIC_SITE_URL="https://mesadeayuda.example.gob.cl",
        EMAIL_URL="dummymail://",  # the command only queues; nothing is sent
        EMAIL_SEND_ON_COMMIT="0",
        # One INFO line per closed ticket would measure the terminal, not the command.
        LOG_LEVEL="WARNING",
    )
    sys.path.insert(0, str(ROOT))


def postgres_name():
    url = urlsplit(os.environ["DATABASE_URL"])
    if not url.scheme.startswith("postgres"):
        return None
    name = url.path.lstrip("/")
    if not name.startswith(SAFE_PREFIX):
        sys.exit(f"refusing to drop and create {name!r}: use a database named {SAFE_PREFIX}…")
    return name


# --- building the data (child process) ----------------------------------------------------


def build(total, stalled, seed=5):
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from tickets.models import Category, Region, Reply, Sequence, Status, Ticket

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter()

    if connection.vendor == "sqlite":
        # Loading only: a crash here costs a rerun, so skip the journal's disk flushes
        # and give the index updates room. The measured run uses the normal settings.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB

    rng = random.Random(seed)
    regions = list(Region.objects.all())
    categories = list(Category.objects.all())
    now = timezone.now()
    answered_not_due = stalled  # as many again still inside their deadline
    # The rest is mostly history, as in a help desk that has run for a while.
    mix = [
        (Status.RESOLVED, 0.55),
        (Status.CLOSED, 0.10),
        (Status.NEW, 0.10),
        (Status.WAITING_STAFF, 0.10),
        (Status.IN_PROGRESS, 0.08),
        (Status.ON_HOLD, 0.07),
    ]
    statuses, weights = zip(*mix, strict=False)

    def ticket(i):
        created = now - timedelta(minutes=rng.randint(60, 365 * 24 * 60))
        t = Ticket(
            number=i + 1,
            tracking_id=tracking_id(i, offset=7_000_000),
            name=f"Persona {i}",
            email=f"persona{i}@example.org",
            category=rng.choice(categories),
            region=rng.choice(regions),
            project_number=20000 + i % 50000,
            subject="No puedo ingresar la rendición del proyecto",
            message=MESSAGE,
            ip_address="192.168.21.120",
            created_at=created,
            updated_at=created,
        )
        if i < stalled:
            t.status = Status.ANSWERED
            t.awaiting_information = rng.random() < 0.3
            t.requester_due_at = now - timedelta(minutes=rng.randint(1, 30 * 24 * 60))
        elif i < stalled + answered_not_due:
            t.status = Status.ANSWERED
            t.awaiting_information = rng.random() < 0.3
            # At least a day ahead, so none falls due while the benchmark runs.
            t.requester_due_at = now + timedelta(minutes=rng.randint(24 * 60, 3 * 24 * 60))
        else:
            t.status = rng.choices(statuses, weights)[0]
            if t.status in (Status.NEW, Status.WAITING_STAFF, Status.IN_PROGRESS):
                t.staff_due_at = created + timedelta(days=2)
            elif t.status in (Status.RESOLVED, Status.CLOSED):
                t.closed_at = created + timedelta(days=3)
        return t

    chunk = 5000
    order = list(range(total))
    rng.shuffle(order)  # stalled tickets spread over the table, not its first pages
    for start in range(0, total, chunk):
        with transaction.atomic():
            rows = Ticket.objects.bulk_create([ticket(i) for i in order[start : start + chunk]])
            # The agent's answer that started each requester clock.
            Reply.objects.bulk_create(
                Reply(
                    ticket=t,
                    kind=Reply.Kind.AGENT,
                    author_name="Ana Agente",
                    message="Revise la sección Rendiciones.",
                    requests_information=t.awaiting_information,
                    created_at=t.created_at,
                )
                for t in rows
                if t.status == Status.ANSWERED
            )
    Sequence.objects.update_or_create(name="ticket", defaults={"value": total})
    # Fresh planner statistics, as autovacuum keeps them in production: without them
    # PostgreSQL sorts every remaining due ticket for each batch instead of an
    # incremental sort that stops after 200 (60 ms against 0.6 ms per batch here).
    # Vacuumed and checkpointed too, as a production table of old rows is: otherwise the
    # timed run pays for the load (each row's hint bits written on first read, the
    # load's dirty pages flushed by a checkpoint in the middle of the run).
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("CHECKPOINT")
        else:
            cursor.execute("ANALYZE")
    built = time.perf_counter()
    print(
        f"built {total:,} tickets ({stalled:,} stalled, {answered_not_due:,} answered not yet due) "
        f"in {built - migrated:.1f} s (migrate {migrated - started:.1f} s)"
    )


# --- measuring (parent process) ---------------------------------------------------------------
class QueryCounter:
    def __init__(self):
        self.kinds = Counter()

    def __call__(self, execute, sql, params, many, context):
        self.kinds[sql.lstrip().split(None, 1)[0].upper()] += 1
        return execute(sql, params, many, context)

    @property
    def total(self):
        return sum(self.kinds.values())


def max_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(label, args, *, trace=False):
    import tracemalloc

    from django.core.management import call_command
    from django.db import connection

    out = StringIO()
    queries = QueryCounter()
    if trace:
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(queries):
        call_command("close_stalled_tickets", *args, stdout=out)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    heap = ""
    if trace:
        heap = f", Python heap peak {tracemalloc.get_traced_memory()[1] / 2**20:.1f} MiB"
        tracemalloc.stop()
    lines = out.getvalue().splitlines()
    kinds = ", ".join(f"{k} {v:,}" for k, v in queries.kinds.most_common())
    print(
        f"{label}: {wall:.2f} s (this process's CPU {cpu:.2f} s), {queries.total:,} queries ({kinds}), "
        f"max RSS {max_rss_mib():.0f} MiB{heap}"
    )
    print(f"    {lines[-1]}" + (f"  [{len(lines) - 1:,} lines listed]" if len(lines) > 1 else ""))
    return queries.total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--stalled", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument(
        "--keep", action="store_true", help="leave the PostgreSQL database in place"
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also report the Python heap peak of the real run",
    )
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)  # the child's job
    args = parser.parse_args()
    if args.stalled * 2 > args.tickets:
        parser.error("--stalled must be at most half of --tickets")

    configure_environment()
    if args.build:
        build(args.tickets, args.stalled)
        return

    pg = postgres_name()
    if pg:
        postgres_admin(os.environ["DATABASE_URL"], f'DROP DATABASE IF EXISTS "{pg}"')
        postgres_admin(os.environ["DATABASE_URL"], f'CREATE DATABASE "{pg}"')
    try:
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--build",
                "--tickets",
                str(args.tickets),
                "--stalled",
                str(args.stalled),
            ],
            check=True,
        )
        import django

        django.setup()
        from django.db import connection

        from tickets.models import OutgoingEmail, Reply, Ticket

        load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"database: {connection.vendor} {connection.settings_dict['NAME']}; batch size {args.batch_size}; "
            f"load average {load} (1/5/15 min, {os.cpu_count()} CPUs)"
        )
        connection.ensure_connection()
        print(f"before: max RSS {max_rss_mib():.0f} MiB (Python, Django and one connection)")
        batch = ["--batch-size", str(args.batch_size)]
        measure("dry run", ["--dry-run", *batch])
        measure("real run", batch, trace=args.tracemalloc)
        measure("second run", batch)

        closed = Ticket.objects.filter(closed_by_system=True).count()
        notices = OutgoingEmail.objects.filter(kind="ticket_closed_automatically").count()
        system = Reply.objects.filter(kind=Reply.Kind.SYSTEM).count()
        ok = closed == notices == system == args.stalled
        print(
            f"check: {closed:,} closed by the system, {system:,} system replies, {notices:,} notices "
            f"({'as expected' if ok else 'MISMATCH'})"
        )
        connection.close()
        if not ok:
            sys.exit(1)
    finally:
        if pg and not args.keep:
            from django.db import connections

            connections.close_all()
            postgres_admin(os.environ["DATABASE_URL"], f'DROP DATABASE IF EXISTS "{pg}"')
        if os.environ.get("BENCH_TMP_DIR"):
            shutil.rmtree(os.environ["BENCH_TMP_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
