"""5,000 inbound e-mails through receive_mail's code path and through fetch_mail (dovecot).

    .venv/bin/python benchmarks/inbound_mail.py [--messages 5000]

A throwaway SQLite file unless DATABASE_URL is set (then it must name a database whose
name starts with "mesaayuda_bench"; it is migrated and its inbound rows are left).
The mix is what a desk sees: 70 % replies threaded by In-Reply-To, 10 % matched by
the subject's [#ID] only, 10 % out-of-office, 5 % another sender, 5 % no ticket. Every
message is then fed a second time, and fetch_mail runs as two fetchers at once on
the same mailbox: the script fails if any message was applied twice.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKETS = 50


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def message(i: int, tracking_ids, message_ids, tag: str) -> bytes:
    t = i % len(tracking_ids)
    kind = i % 20
    sender = f"persona{t}@desarrollosocial.gob.cl"
    headers = [f"Message-ID: <{tag}-{i}@desarrollosocial.gob.cl>", "MIME-Version: 1.0"]
    subject = f"Re: [#{tracking_ids[t]}] Nueva respuesta a su ticket"
    if kind < 14:
        headers.append(f"In-Reply-To: {message_ids[t]}")
    elif kind < 16:
        pass  # the subject's tag only
    elif kind < 18:
        headers.append("Auto-Submitted: auto-replied")
        subject = "Respuesta automática: " + subject
    elif kind < 19:
        sender = f"jefe{t}@desarrollosocial.gob.cl"
    else:
        sender = f"desconocido{i}@example.cl"
        subject = "Consulta"
    body = (
        f"Respuesta número {i}: ya pude ingresar la rendición, gracias.\n\n"
        f"El lun, 7 dic 2026 a las 10:15, Mesa de Ayuda SIGEC <mesaayuda@example.gob.cl> escribió:\n\n"
        + "> —— Escriba su respuesta sobre esta línea ——\n> Estimado(a):\n"
        * 3
    )
    head = "\r\n".join(
        [f"From: {sender}", "To: mesaayuda@example.gob.cl", f"Subject: {subject}", *headers]
    )
    return (
        head + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body.replace("\n", "\r\n")
    ).encode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--processes", type=int, default=20, help="real receive_mail processes")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="inbound-bench-")
    url = os.environ.get("DATABASE_URL", "")
    if url and not url.rsplit("/", 1)[-1].startswith("mesaayuda_bench"):
        sys.exit("DATABASE_URL must name a database called mesaayuda_bench…")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp.name}/bench.sqlite3")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mesaayuda.settings",
        DEBUG="1",
        EMAIL_URL="dummymail://",
        EMAIL_SEND_ON_COMMIT="0",
        LOG_LEVEL="WARNING",
        INBOUND_EMAIL_ADDRESS="mesaayuda@example.gob.cl",
        # 100 messages per requester in a few seconds would be a loop in production.
        INBOUND_MAX_PER_SENDER_HOUR="1000000",
        MEDIA_ROOT=f"{tmp.name}/media",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections

    from tests.imap import start_imap_server
    from tickets import inbound, mailbox
    from tickets.models import Category, InboundEmail, OutgoingEmail, Region, Reply
    from tickets.submission import submit_ticket

    call_command("migrate", verbosity=0)
    tickets = [
        submit_ticket(
            name=f"Persona {i}",
            email=f"persona{i}@desarrollosocial.gob.cl",
            category=Category.objects.first(),
            region=Region.objects.get(code="RM"),
            project_number=29928,
            message="Consulta",
        )
        for i in range(TICKETS)
    ]
    tracking_ids = [t.tracking_id for t in tickets]
    message_ids = [t.emails.filter(kind="ticket_created").get().message_id for t in tickets]

    def applied_replies():
        return Reply.objects.filter(kind=Reply.Kind.REQUESTER, channel="email").count()

    # --- receive_mail's code path, in process ---------------------------------------------
    raws = [message(i, tracking_ids, message_ids, "pipe") for i in range(args.messages)]
    base = peak_mb()
    started = time.perf_counter()
    rows = [inbound.receive(raw, source="pipe") for raw in raws]
    pipe_s = time.perf_counter() - started
    pipe_peak = peak_mb()
    states = {}
    for r in rows:
        states[r.state] = states.get(r.state, 0) + 1
    applied_once = applied_replies()
    started = time.perf_counter()
    again = [inbound.receive(raw, source="pipe") for raw in raws]
    again_s = time.perf_counter() - started
    twice = applied_replies() - applied_once
    assert twice == 0, "a message was applied twice"

    # --- receive_mail as the MTA runs it: one process per message ----------------------------
    env = {**os.environ}
    started = time.perf_counter()
    for i in range(args.processes):
        raw = message(args.messages + i, tracking_ids, message_ids, "proc")
        subprocess.run(  # nosec B603: our own command
            [sys.executable, str(ROOT / "manage.py"), "receive_mail"],
            input=raw,
            env=env,
            check=True,
            capture_output=True,
        )
    proc_s = (time.perf_counter() - started) / args.processes

    # --- fetch_mail: two fetchers at once against dovecot ------------------------------------
    imap_root = Path(tmp.name) / "imap"
    imap_root.mkdir()
    os.chmod(tmp.name, 0o755)
    os.chmod(imap_root, 0o755)
    server = start_imap_server(imap_root)
    try:
        started = time.perf_counter()
        with server.mailbox() as box:
            for i in range(args.messages):
                box.append(message(i, tracking_ids, message_ids, "imap"), "INBOX")
        deliver_s = time.perf_counter() - started
        settings.INBOUND_IMAP_DONE_FOLDER = "Procesados"
        before = applied_replies()
        runs, errors = [], []
        start = threading.Barrier(2)

        def fetch():
            try:
                start.wait(timeout=30)
                runs.append(mailbox.fetch(server.url))
            except Exception as exc:
                errors.append(repr(exc))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=fetch) for _ in range(2)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        fetch_s = time.perf_counter() - started
        fetch_peak = peak_mb()
        left = server.count("INBOX")
    finally:
        server.stop()
    assert not errors, errors
    imap_rows = InboundEmail.objects.filter(source="imap").count()
    imap_applied = applied_replies() - before
    expected_applied = sum(r.counts.get("applied", 0) for r in runs)

    print(f"database:          {connection.vendor} ({settings.DATABASES['default']['NAME']})")
    print(f"tickets:           {TICKETS}; messages per path: {args.messages}")
    print(
        f"receive_mail path: {args.messages} in {pipe_s:.2f} s ({args.messages / pipe_s:,.0f} msg/s); "
        + ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    )
    print(
        f"  fed again:       {len(again)} in {again_s:.2f} s, {sum(r is None for r in again)} duplicates, "
        f"{twice} applied twice"
    )
    print(f"  peak RSS:        {pipe_peak:.1f} MB (before {base:.1f} MB)")
    print(
        f"receive_mail process (MTA pipe): {proc_s * 1000:.0f} ms per message ({args.processes} runs)"
    )
    print(f"IMAP APPEND:       {args.messages} in {deliver_s:.2f} s")
    print(
        f"fetch_mail × 2:    {imap_rows} stored in {fetch_s:.2f} s ({imap_rows / fetch_s:,.0f} msg/s); "
        f"fetcher A {runs[0].summary()}; fetcher B {runs[1].summary()}"
    )
    print(
        f"  applied:         {imap_applied} (fetchers counted {expected_applied}); left in INBOX: {left}"
    )
    print(f"  peak RSS:        {fetch_peak:.1f} MB")
    outbox = OutgoingEmail.objects.filter(kind="inbound_unmatched").count()
    print(f"no-ticket answers queued: {outbox}")
    tmp.cleanup()
    if imap_rows != args.messages or imap_applied != expected_applied or left:
        sys.exit("fetch_mail lost or applied a message twice")


if __name__ == "__main__":
    main()
