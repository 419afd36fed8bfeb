"""The supervisors' report at 100,000 tickets, and a 100,000-row queue export's peak memory.

    .venv/bin/python benchmarks/reports.py [--tickets 100000] [--runs 7]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mesaayuda_wt19bench .venv/bin/python benchmarks/reports.py

Without DATABASE_URL it works on a throwaway SQLite file in /tmp. With a PostgreSQL
DATABASE_URL the database is dropped and created afresh, and dropped again at the end
(--keep leaves it); only a database whose name ends in "bench" is ever touched.

A child process builds the tickets (a year of history: answered, resolved, closed, with
their stored measures, replies and status history). The parent then opens the report page
as a supervisor through django.test.Client (whole request: middleware, queries,
template), prints the median and worst wall time of --runs runs and its query count; then
each export (queue CSV and XLSX of every ticket, the report XLSX) runs in a fresh child
process that prints its own peak RSS (ru_maxrss) and Python heap peak (tracemalloc).
"""

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from common import postgres_admin, tracking_id

ROOT = Path(__file__).resolve().parent.parent
# The whole history the build spreads the tickets over.
A_YEAR = {"desde": (date.today() - timedelta(days=365)).isoformat()}


def configure_environment():
    if "DATABASE_URL" not in os.environ:
        tmp = tempfile.mkdtemp(prefix="mesaayuda-bench-reports-", dir="/tmp")
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        os.environ["BENCH_TMP_DIR"] = tmp
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mesaayuda.settings",
        DEBUG="0",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY", "benchmark-only-" + "x" * 60),
        PUBLIC_SITE_URL="https://mesadeayuda.example.gob.cl",
        EMAIL_URL="dummymail://",
        EMAIL_SEND_ON_COMMIT="0",
        LOG_LEVEL="WARNING",
        ALLOWED_HOSTS="testserver",
        # The in-process client speaks plain HTTP; the redirect to HTTPS is not what we measure.
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
    )
    sys.path.insert(0, str(ROOT))


def postgres_name():
    url = urlsplit(os.environ["DATABASE_URL"])
    if not url.scheme.startswith("postgres"):
        return None
    name = url.path.lstrip("/")
    if not name.endswith("bench"):
        sys.exit(f"refusing to drop and create {name!r}: use a database whose name ends in 'bench'")
    return name


# --- building the data (child process) ---------------------------------------------------
def build(total, seed=19):
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from tickets.models import Category, Region, Reply, Sequence, Status, Ticket, TicketEvent

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = OFF")
    supervisor = User.objects.create_user(
        "supervisora", password="bench-2026", is_staff=True, first_name="Sara", last_name="Jefa"
    )
    supervisor.groups.add(Group.objects.get(name="Supervisores"))
    agents = [
        User.objects.create_user(f"agente{i}", is_staff=True, first_name="Agente", last_name=str(i))
        for i in range(12)
    ]
    rng = random.Random(seed)
    regions = list(Region.objects.all())
    categories = list(Category.objects.all())
    now = timezone.now()

    def ticket(i):
        created = now - timedelta(minutes=rng.randint(60, 365 * 24 * 60))
        t = Ticket(
            number=i + 1,
            tracking_id=tracking_id(i, offset=9_000_000),
            name=f"Persona {i}",
            email=f"persona{i}@example.org",
            category=rng.choice(categories),
            region=rng.choice(regions),
            project_number=20000 + i % 50000,
            subject="No puedo ingresar la rendición del proyecto",
            message="Al presionar «Enviar» aparece «Error inesperado».",
            ip_address="192.168.21.120",
            created_at=created,
            updated_at=created,
            assignee=rng.choice(agents) if rng.random() < 0.7 else None,
        )
        status = rng.choices(
            [Status.RESOLVED, Status.CLOSED, Status.ANSWERED, Status.NEW, Status.WAITING_STAFF],
            [0.65, 0.1, 0.1, 0.1, 0.05],
        )[0]
        t.status = status
        if status != Status.NEW:
            hours = rng.lognormvariate(2.3, 0.9)
            t.first_public_answer_at = created + timedelta(hours=hours * 2)
            t.first_answer_business_hours = round(hours, 4)
            t.first_answer_by = rng.choice(agents)
        if status in (Status.RESOLVED, Status.CLOSED):
            t.closed_at = created + timedelta(days=rng.randint(1, 10))
            t.resolution_business_hours = round(rng.uniform(8, 120), 4)
        else:
            t.staff_due_at = created + timedelta(days=2)
        return t

    chunk = 5000
    kinds = [("agent", "Resuelto"), ("requester", "Resuelto"), ("system", "Resuelto")]
    for start in range(0, total, chunk):
        with transaction.atomic():
            rows = Ticket.objects.bulk_create(
                [ticket(i) for i in range(start, min(total, start + chunk))]
            )
            Reply.objects.bulk_create(
                Reply(
                    ticket=t,
                    kind=Reply.Kind.AGENT,
                    author=t.first_answer_by,
                    author_name="Agente",
                    message="Revise la sección Rendiciones.",
                    created_at=t.first_public_answer_at,
                )
                for t in rows
                if t.first_public_answer_at
            )
            events = []
            for t in rows:
                if t.closed_at:
                    kind, label = rng.choice(kinds)
                    if t.status == Status.CLOSED:
                        kind, label = "system", "Cerrado"
                    events.append(
                        TicketEvent(
                            ticket=t,
                            created_at=t.closed_at,
                            actor_kind=kind,
                            field="status",
                            old_value="Respondido",
                            new_value=label,
                        )
                    )
            TicketEvent.objects.bulk_create(events)
    Sequence.objects.update_or_create(name="ticket", defaults={"value": total})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"built {total:,} tickets, {Reply.objects.count():,} replies, "
        f"{TicketEvent.objects.count():,} status events in {time.perf_counter() - started:.1f} s"
    )


# --- measuring ---------------------------------------------------------------------------
def max_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def client():
    from django.contrib.auth.models import User
    from django.test import Client

    c = Client()
    c.force_login(
        User.objects.get(username="supervisora"),
        backend="tickets.auth_backend.OneQueryModelBackend",
    )
    return c


def measure_page(runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client()
    url = "/admin/tickets/ticket/informes/"
    for params, label in [({}, "this month"), (A_YEAR, "the last 365 days")]:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            r = c.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
            assert r.status_code == 200, r.status_code
        with CaptureQueriesContext(connection) as ctx:
            c.get(url, params)
        slowest = sorted(float(q["time"]) * 1000 for q in ctx.captured_queries)[-3:][::-1]
        print(
            f"report page ({label}): median {statistics.median(times):.0f} ms, "
            f"worst {max(times):.0f} ms over {runs} runs; {len(ctx.captured_queries)} queries; "
            f"slowest queries {', '.join(f'{ms:.0f} ms' for ms in slowest)}; "
            f"{len(r.content) / 1024:.0f} KiB"
        )


def measure_export(which, trace):
    import tracemalloc

    import django

    django.setup()
    c = client()
    urls = {
        "queue-csv": ("/admin/tickets/ticket/exportar.csv", {"estado": "todos"}),
        "queue-xlsx": ("/admin/tickets/ticket/exportar.xlsx", {"estado": "todos"}),
        "report-xlsx": ("/admin/tickets/ticket/informes/exportar.xlsx", A_YEAR),
    }
    url, params = urls[which]
    before = max_rss_mib()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    r = c.get(url, params)
    size = 0
    lines = 0
    for chunk in r.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n") if which.endswith("csv") else 0
    wall = time.perf_counter() - started
    heap = ""
    if trace:
        heap = (
            f"; Python heap peak {tracemalloc.get_traced_memory()[1] / 2**20:.1f} MiB (traced run)"
        )
        tracemalloc.stop()
    rows = f", {lines - 1:,} rows" if lines else ""
    print(
        f"{which}: {wall:.1f} s, {size / 2**20:.1f} MiB file{rows}; peak RSS {max_rss_mib():.0f} MiB "
        f"(before the request {before:.0f} MiB){heap}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="leave the PostgreSQL database")
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--export", help=argparse.SUPPRESS)
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace the exports' Python heap (slower)"
    )
    args = parser.parse_args()

    configure_environment()
    if args.build:
        build(args.tickets)
        return
    if args.export:
        measure_export(args.export, args.tracemalloc)
        return

    # Production's static storage needs its manifest, as docker/build-steps.sh makes it.
    static_root = tempfile.mkdtemp(prefix="mesaayuda-bench-static-", dir="/tmp")
    os.environ["STATIC_ROOT"] = static_root
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        check=True,
    )
    pg = postgres_name()
    if pg:
        postgres_admin(os.environ["DATABASE_URL"], f'DROP DATABASE IF EXISTS "{pg}"')
        postgres_admin(os.environ["DATABASE_URL"], f'CREATE DATABASE "{pg}"')
    try:
        subprocess.run(
            [sys.executable, __file__, "--build", "--tickets", str(args.tickets)], check=True
        )
        import django

        django.setup()
        from django.db import connection

        load = os.getloadavg()
        print(
            f"database: {connection.vendor} {connection.settings_dict['NAME']}; "
            f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
        )
        measure_page(args.runs)
        connection.close()
        for which in ("queue-csv", "queue-xlsx", "report-xlsx"):
            trace = ["--tracemalloc"] if args.tracemalloc else []
            subprocess.run([sys.executable, __file__, "--export", which, *trace], check=True)
    finally:
        if pg and not args.keep:
            from django.db import connections

            connections.close_all()
            postgres_admin(os.environ["DATABASE_URL"], f'DROP DATABASE IF EXISTS "{pg}"')
        shutil.rmtree(static_root, ignore_errors=True)
        if os.environ.get("BENCH_TMP_DIR"):
            shutil.rmtree(os.environ["BENCH_TMP_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
