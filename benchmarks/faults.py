"""Fault benchmark (issue 21): submissions while the database connections, a worker and SMTP fail.

    .venv/bin/python benchmarks/faults.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/mesaayuda_bench_faults .venv/bin/python benchmarks/faults.py

What it does:
1. creates the PostgreSQL database afresh (only names starting with "mesaayuda_" are
   ever dropped), migrates it, collects the static files, starts a loopback SMTP server
   (aiosmtpd, tests/smtp.py) and gunicorn as the image does (3 workers, DEBUG=0,
   production settings; the benchmark-only captcha test mode of benchmarks/load.py);
2. 8 clients send 10 forms each, paced over about 8 s, as a browser would: GET the
   form, POST it, follow the redirect to the confirmation and read the tracking ID;
   on an error page the requester sends the same form again (a refresh), up to 3 times;
3. meanwhile: every connection of the portal to the database is terminated
   (pg_terminate_backend) at 1.5 s and again at 5 s, one worker is SIGKILLed at 3 s,
   the SMTP server is down from 3.5 s to 7.5 s;
4. then cron's part: send_queued_mail until nothing is due, and once more after
   fast-forwarding the lease of any row left "sending" (what a sender that lost the
   sent state leaves behind: those would go out a second time ten minutes later);
5. prints tickets created and duplicated, tickets the requesters were told about and
   found, e-mails received and duplicated, error pages seen (and how many of them
   for a ticket that was in fact saved).
"""

import argparse
import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import load  # noqa: E402  (benchmarks/load.py: the production environment and gunicorn)

from tests.smtp import SMTPServer  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mesaayuda_bench_faults"
CLIENTS, PER_CLIENT, PACE = 8, 10, 0.8
TOKEN = re.compile(r'name="submission_token" value="([^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TRACKING = re.compile(r'class="tracking-id">([A-Z0-9-]{12})<')


def admin(url, sql, dbname="postgres", params=None):
    p = urlsplit(url)
    with psycopg.connect(
        host=p.hostname, port=p.port or 5432, user=p.username, dbname=dbname, autocommit=True
    ) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if sql.lstrip().startswith("SELECT") else None


class Browser:
    """One requester: cookies kept by hand (they are Secure, and nginx speaks HTTPS for us)."""

    def __init__(self, port):
        self.port, self.cookies = port, {}

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {
            "Host": load.HOST,
            "X-Forwarded-Proto": "https",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://{load.HOST}"
            headers["Referer"] = f"https://{load.HOST}/ticket/nuevo/"
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            text = r.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            return 0, "", str(exc)
        finally:
            conn.close()
        for name, value in r.getheaders():
            if name.lower() == "set-cookie":
                k, _, v = value.split(";", 1)[0].partition("=")
                self.cookies[k.strip()] = v
        return r.status, r.getheader("Location", ""), text


def client(url, port, k, info, results, lock):
    b = Browser(port)
    for i in range(PER_CLIENT):
        start = time.monotonic()
        for _ in range(5):  # the form itself may meet a fault: load it again
            status, _, form = b.request("GET", "/ticket/nuevo/")
            if status == 200:
                break
            with lock:
                results["errors"].append(("GET form", status))
        token, csrf = TOKEN.search(form).group(1), CSRF.search(form).group(1)
        fields = {
            "name": f"Solicitante {k}",
            "email": f"persona{k}.{i}@desarrollosocial.gob.cl",
            "category": info["category"],
            "region": info["region"],
            "project_number": "29928",
            "message": f"Prueba de fallas {k}.{i}: no puedo ingresar la rendición.",
            "captcha_0": "benchmark",
            "captcha_1": "PASSED",
            "submission_token": token,
            "csrfmiddlewaretoken": csrf,
        }
        told = None
        for _ in range(3):  # an error page: the requester refreshes, the same form again
            status, location, _ = b.request("POST", "/ticket/nuevo/", urlencode(fields))
            if status == 302 and location.endswith("/ticket/enviado/"):
                status, _, page = b.request("GET", "/ticket/enviado/")
                m = TRACKING.search(page)
                if status == 200 and m:
                    told = m.group(1)
                    break
                with lock:
                    results["errors"].append(("GET confirmation", status, token))
            else:
                # Was the ticket saved although this page said otherwise? Asked now, before
                # the refresh could save it.
                saved = admin(
                    url,
                    "SELECT count(*) FROM tickets_ticket WHERE submission_token = %s",
                    urlsplit(url).path.lstrip("/"),
                    [token],
                )[0][0]
                with lock:
                    results["errors"].append(("POST", status, token, saved))
        with lock:
            results["told"].append((token, told))
        time.sleep(max(0.0, PACE - (time.monotonic() - start)))


def faults(url, dbname, server, smtp, started, log):
    def at(t):
        time.sleep(max(0.0, started + t - time.monotonic()))

    def cut(label):
        rows = admin(
            url,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            f"WHERE datname = '{dbname}' AND pid <> pg_backend_pid()",
        )
        log.append(
            f"{time.monotonic() - started:4.1f} s  {label}: {rows[0][0]} connections terminated"
        )

    at(1.5)
    cut("pg_terminate_backend, round 1")
    at(3.0)
    victim = server.workers()[0]
    os.kill(victim, signal.SIGKILL)
    log.append(f"{time.monotonic() - started:4.1f} s  worker {victim} SIGKILLed")
    at(3.5)
    smtp.stop()
    log.append(f"{time.monotonic() - started:4.1f} s  SMTP server down")
    at(5.0)
    cut("pg_terminate_backend, round 2")
    at(7.5)
    smtp.start()
    log.append(f"{time.monotonic() - started:4.1f} s  SMTP server back")


def manage(env, *args):
    return (
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=load.ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )  # the summary; the lines before are start-up logs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()
    url = args.database_url
    dbname = urlsplit(url).path.lstrip("/")
    if not re.fullmatch(r"mesaayuda_[a-z0-9_]+", dbname):
        sys.exit(f"refusing to drop and create {dbname!r}: use a name starting with mesaayuda_")
    admin(url, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    admin(url, f'CREATE DATABASE "{dbname}"')
    smtp = SMTPServer()
    smtp.start()
    with tempfile.TemporaryDirectory(prefix="mesaayuda-faults-") as tmp:
        env = load.settings_env(url, tmp, Path(tmp) / "media")
        env.update(
            EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
            EMAIL_TIMEOUT="5",
            PORT=str(load.free_port()),
            GUNICORN_WORKERS="3",
        )
        manage(env, "migrate", "--verbosity", "0")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        info = dict(
            zip(
                ["category", "region"],
                admin(
                    url,
                    "SELECT (SELECT min(id) FROM tickets_category), (SELECT min(id) FROM tickets_region)",
                    dbname,
                )[0],
                strict=True,
            )
        )
        server = load.Gunicorn(env, Path(tmp) / "gunicorn.log")
        server.start()
        results, lock, log = {"errors": [], "told": []}, threading.Lock(), []
        try:
            started = time.monotonic()
            threads = [
                threading.Thread(target=client, args=(url, server.port, k, info, results, lock))
                for k in range(CLIENTS)
            ]
            threads.append(
                threading.Thread(target=faults, args=(url, dbname, server, smtp, started, log))
            )
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - started
            # Cron's part: whatever the after-commit threads could not send.
            cron = [manage(env, "send_queued_mail")]
            # Rows left "sending" are those whose sent state was lost: ten minutes later
            # their lease runs out and they go again. Fast-forward to that moment.
            sending = admin(
                url, "SELECT count(*) FROM tickets_outgoingemail WHERE state = 'sending'", dbname
            )[0][0]
            admin(
                url,
                "UPDATE tickets_outgoingemail SET next_attempt_at = now() WHERE state = 'sending'",
                dbname,
            )
            cron.append(manage(env, "send_queued_mail"))
        finally:
            server.stop()
            smtp.stop()
            gunicorn_log = (Path(tmp) / "gunicorn.log").read_text(errors="replace")

    tickets = admin(url, "SELECT submission_token, tracking_id FROM tickets_ticket", dbname)
    rows = admin(url, "SELECT state, count(*) FROM tickets_outgoingemail GROUP BY state", dbname)
    admin(url, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

    per_token = Counter(t for t, _ in tickets)
    ids = {tid for _, tid in tickets}
    told = [tid for _, tid in results["told"] if tid]
    error_pages = [e for e in results["errors"] if e[0] != "GET form"]
    for_saved = [e for e in results["errors"] if e[0] == "POST" and e[3]]
    received = Counter((m.rcpt_tos[0], m.subject) for m in smtp.messages)
    print(
        f"faults, {CLIENTS} clients x {PER_CLIENT} submissions, gunicorn 3 workers, DEBUG=0, PostgreSQL"
    )
    print("\n".join("  " + line for line in log))
    print(f"  run {elapsed:.1f} s; cron afterwards: {' | '.join(cron)}")
    print(
        f"submissions {len(results['told'])}: tickets created {len(tickets)}, "
        f"duplicated {sum(n - 1 for n in per_token.values())}, "
        f"told a tracking ID {len(told)} (all exist: {set(told) <= ids}), "
        f"never told {len(results['told']) - len(told)}"
    )
    print(
        f"e-mails: received {len(smtp.messages)} (expected {2 * len(tickets)}), "
        f"duplicated {sum(n - 1 for n in received.values())}, rows {dict(rows)}, "
        f"left 'sending' before the lease fast-forward {sending}"
    )
    print(
        f"error pages seen {len(error_pages)} (form loads failed {len(results['errors']) - len(error_pages)}), "
        f"of them for a ticket that was saved: {len(for_saved)}; by status "
        f"{dict(Counter(e[1] for e in results['errors']))} (0: connection reset by the killed worker)"
    )
    print(
        "log: "
        + ", ".join(
            f"{what} {gunicorn_log.count(what)}"
            for what in [
                "database connection lost",
                "session not saved",
                "could not record state",
                "Internal Server Error",
                "sending after commit failed",
            ]
        )
    )


if __name__ == "__main__":
    main()
