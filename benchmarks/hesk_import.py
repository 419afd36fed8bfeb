"""Build a HESK database in MariaDB and time manage.py import_hesk on it.

    .venv/bin/python benchmarks/hesk_import.py [--tickets 50000] [--replies 150000] [--attachments 20000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mesaayuda_bench_hesk .venv/bin/python benchmarks/hesk_import.py

MariaDB: HESK_TEST_MARIADB (default mysql://root@127.0.0.1:3306/); the HESK database
(--hesk-db, default hesk_bench) is dropped and created afresh. Our side: a throwaway
SQLite file in /tmp without DATABASE_URL; with a PostgreSQL one, only a database whose
name starts with "mesaayuda_" and contains "bench" is dropped and created.

The import runs in a child process that did nothing else (after a child that ran
migrate), so its peak memory (ru_maxrss) is the import's own. It is run twice: the
first run brings everything across, the second must find nothing to do. --small N
first imports an N-ticket database the same way, to show whether memory grows with size.
"""

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import hesk_fixture as hf  # noqa: E402  (after the path is set)

ALPHABET = "AEUYBDGHJLMNPQRSTVWXZ123456789"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MESSAGE = hf.body(
    "Estimados, no puedo ingresar la rendición del proyecto en SIGEC.\n"
    'Al presionar "Enviar" aparece <Error inesperado> y el documento queda en borrador.\n'
    "Vea https://sigec.mideplan.cl/sigec/view-proyecto.htm?proyecto=29928\nSaludos."
)
REGIONS = ["Región de Valparaíso", "Metropolitana", "XIV Región de Los Ríos", "Ñuble", "Maule"]


def child_env() -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="mesaayuda.settings",
        DEBUG="0",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY", "benchmark-only-" + "x" * 60),
        PUBLIC_SITE_URL="https://mesadeayuda.example.gob.cl",
        EMAIL_URL="dummymail://",
        LOG_LEVEL="WARNING",
    )
    return env


def prepare_our_database(tmp: Path) -> None:
    url = os.environ.get("DATABASE_URL")
    if not url or url == f"sqlite:///{tmp}/bench.sqlite3":
        (tmp / "bench.sqlite3").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        os.environ["MEDIA_ROOT"] = str(tmp / "media")
        return
    os.environ.setdefault("MEDIA_ROOT", str(tmp / "media"))
    name = urlsplit(url).path.strip("/")
    if not (name.startswith("mesaayuda_") and "bench" in name):
        sys.exit(f"refusing to drop {name!r}: use a database named mesaayuda_…bench…")
    import psycopg

    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def build_hesk(name: str, folder: Path, tickets: int, replies: int, attachments: int) -> float:
    started = time.perf_counter()
    rng = random.Random(16)
    conn = hf.create_database(name, generation="3.4")
    hf.insert(conn, "hesk_categories", [{"id": n, "name": f"Categoría {n}"} for n in range(1, 6)])
    hf.insert(
        conn,
        "hesk_users",
        [{"id": n, "user": f"agente{n}", "name": f"Agente {n}",
          "email": f"agente{n}@desarrollosocial.gob.cl"} for n in range(1, 11)],
    )  # fmt: skip
    hf.insert(
        conn,
        "hesk_custom_fields",
        [{"id": 1, "use": "1", "name": '{"Español":"Región"}'},
         {"id": 2, "use": "1", "name": '{"Español":"Número de proyecto"}'}],
    )  # fmt: skip
    base = datetime(2015, 1, 5, 12, 0)
    per_ticket = replies / tickets
    att_id = reply_id = 0
    trackids = set()
    ticket_files = attachments // 2
    batch_t, batch_r, batch_a = [], [], []

    def flush(force=False):
        for table, rows in (
            ("hesk_tickets", batch_t),
            ("hesk_replies", batch_r),
            ("hesk_attachments", batch_a),
        ):
            if rows and (force or len(rows) >= 1000):
                hf.insert(conn, table, rows)
                rows.clear()

    def new_file(trackid):
        nonlocal att_id
        att_id += 1
        saved = f"{trackid}_{att_id:08d}.pdf"
        (folder / saved).write_bytes(PDF)
        batch_a.append({"att_id": att_id, "ticket_id": trackid, "saved_name": saved,
                        "real_name": f"informe {att_id}.pdf", "size": len(PDF), "type": "0"})  # fmt: skip
        return f"{att_id}#informe {att_id}.pdf,"

    for i in range(1, tickets + 1):
        while True:
            raw = "".join(rng.choice(ALPHABET) for _ in range(10))
            trackid = f"{raw[:3]}-{raw[3:6]}-{raw[6:]}"
            if trackid not in trackids:
                trackids.add(trackid)
                break
        created = base + timedelta(minutes=90 * i)
        n = int(per_ticket * i) - int(per_ticket * (i - 1))
        for k in range(n):
            reply_id += 1
            files = new_file(trackid) if att_id < attachments and reply_id % 15 == 0 else ""
            batch_r.append({"id": reply_id, "replyto": i, "name": "Agente 1" if k % 2 else "Persona",
                            "message": hf.body(f"Respuesta {k}:\nGracias & saludos."), "message_html": None,
                            "dt": created + timedelta(hours=k + 1), "attachments": files,
                            "staffid": 1 if k % 2 else 0})  # fmt: skip
        files = new_file(trackid) if i % max(1, tickets // ticket_files) == 0 else ""
        status = rng.choices([0, 1, 2, 3, 4, 5], weights=[3, 5, 10, 70, 8, 4])[0]
        batch_t.append(
            hf.ticket_row(
                "3.4", id=i, trackid=trackid, name=f"Persona {i}", email=f"persona{i}@example.cl",
                category=i % 5 + 1, priority=i % 4, subject=hf.escape(f"Problema {i} con SIGEC"),
                message=MESSAGE, message_html=None, dt=created, lastchange=created + timedelta(days=1),
                closedat=created + timedelta(days=1) if status == 3 else None, ip="10.1.2.3",
                language="Español", status=status, owner=i % 11, replies=n,
                lastreplier="1" if n % 2 == 0 and n else "0", replierid=1 if n % 2 == 0 and n else None,
                attachments=files,
                history=f'<li class="smaller">{created:%Y-%m-%d %H:%M:%S} | enviado por Cliente</li>',
                custom1=hf.escape(REGIONS[i % len(REGIONS)]), custom2=str(10000 + i),
            )
        )  # fmt: skip
        flush()
    flush(force=True)
    conn.close()
    return time.perf_counter() - started


def run_child(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args], env=child_env(), capture_output=True, text=True
    )
    if out.returncode:
        sys.exit(f"child {args[0]} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(mode: str, url: str, folder: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    if mode == "--child-migrate":
        call_command("migrate", verbosity=0)
        summary = ""
    else:
        from io import StringIO

        out = StringIO()
        call_command("import_hesk", "--db", url, "--attachments", folder, stdout=out)
        summary = out.getvalue().strip()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps({"seconds": time.perf_counter() - started, "peak_mib": peak, "summary": summary})
    )


def measure(name: str, tickets: int, replies: int, attachments: int, tmp: Path) -> None:
    folder = tmp / f"attachments-{tickets}"
    folder.mkdir()
    built = build_hesk(name, folder, tickets, replies, attachments)
    url = hf.MARIADB_URL.rstrip("/") + "/" + name
    conn = hf.connect(name)
    with conn.cursor() as cur:
        counts = {}
        for table in ("tickets", "replies", "attachments"):
            cur.execute(f"SELECT COUNT(*) FROM hesk_{table}")
            counts[table] = cur.fetchone()[0]
    conn.close()
    rows = sum(counts.values())
    print(
        f"HESK database: {counts['tickets']:,} tickets, {counts['replies']:,} replies, "
        f"{counts['attachments']:,} attachments ({built:.1f} s to build)"
    )
    first = run_child(["--child-import", url, str(folder)])
    print(
        f"  first run:  {first['seconds']:.1f} s wall, {rows / first['seconds']:,.0f} rows/s, "
        f"peak memory {first['peak_mib']:.0f} MiB (ru_maxrss)"
    )
    print(f"    {first['summary'][:300]}")
    second = run_child(["--child-import", url, str(folder)])
    print(
        f"  second run: {second['seconds']:.1f} s wall, {rows / second['seconds']:,.0f} rows/s, "
        f"peak memory {second['peak_mib']:.0f} MiB"
    )
    print(f"    {second['summary'][:300]}")
    hf.drop_database(name)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1].startswith("--child-"):
        child(sys.argv[1], *sys.argv[2:])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--replies", type=int, default=150_000)
    parser.add_argument("--attachments", type=int, default=20_000)
    parser.add_argument(
        "--small", type=int, default=0, help="also import an N-ticket database first"
    )
    parser.add_argument("--hesk-db", default="hesk_bench")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mesaayuda-bench-hesk-", dir="/tmp"))
    try:
        prepare_our_database(tmp)
        os.environ.update(child_env())
        print(f"{datetime.now():%Y-%m-%d %H:%M}, database {urlsplit(os.environ['DATABASE_URL']).scheme}, "
              f"load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
        run_child(["--child-migrate", "", ""])
        if args.small:
            ratio = args.small / args.tickets
            measure(f"{args.hesk_db}_small", args.small, int(args.replies * ratio),
                    int(args.attachments * ratio), tmp)  # fmt: skip
            # The full import starts from an empty portal again.
            prepare_our_database(tmp)
            run_child(["--child-migrate", "", ""])
        measure(args.hesk_db, args.tickets, args.replies, args.attachments, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
