"""gunicorn settings, read from the environment like Django's (see .env.example).

    gunicorn -c gunicorn.conf.py mesaayuda.wsgi

Workers × threads is the number of requests served at once, and with persistent
connections also the number of PostgreSQL connections this server holds: keep
(servers × GUNICORN_WORKERS × GUNICORN_THREADS) under PostgreSQL's max_connections.
"""

import os
import sys

from gunicorn.glogging import Logger

# gunicorn runs from its own bin/ directory; the project's modules are next to this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mesaayuda.envvalues import whole_number  # noqa: E402
from tickets.logging import gunicorn_access_atoms  # noqa: E402


def _count(name, default, minimum=1):
    try:
        return whole_number(name, os.environ.get(name, ""), default=default, minimum=minimum)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def _cores():
    # The CPUs this container or cgroup may use, not every core of the host.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class AccessLog(Logger):
    """gunicorn's logger, with tracking IDs cut to their prefix (tickets/logging.py)."""

    def atoms(self, resp, req, environ, request_time):
        return gunicorn_access_atoms(super().atoms(resp, req, environ, request_time))


bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{_count('PORT', 8000)}")
# The classic 2 × cores + 1, capped: a 64-core host should not start 129 copies of
# Django; set GUNICORN_WORKERS to go higher.
workers = _count("GUNICORN_WORKERS", min(2 * _cores() + 1, 12))
# Threaded workers: a slow upload or download holds a thread, not a whole process.
worker_class = "gthread"
threads = _count("GUNICORN_THREADS", 4)
timeout = _count("GUNICORN_TIMEOUT", 60)
graceful_timeout = _count("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _count("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then so a slow leak never becomes an outage. Every recycle
# boots Django again: at 2,000 requests that cost 45 % of the ceiling page's throughput
# (benchmarks/RESULTS.md), at 50,000 a restart every few minutes per worker at full
# load. The load benchmark saw a worker's peak grow by at most ~20 MiB (glibc keeping
# what large uploads freed), not a leak, so the protection is not needed sooner. The
# jitter (a fifth) keeps the workers from all restarting at once.
max_requests = _count("GUNICORN_MAX_REQUESTS", 50_000, minimum=0)
max_requests_jitter = max_requests // 5
# Request bodies are bounded by Django (MAX_REQUEST_SIZE) and nginx; these bound the head.
limit_request_line = 8190
limit_request_fields = 100

# Logs go to the container's stdout/stderr; no client addresses or user agents in
# the access line (nginx keeps those if the ministry wants them).
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'
logger_class = AccessLog
# Heartbeat files on a tmpfs: Docker's overlay file system can stall them.
# (bandit B108 flags /dev/shm as a temp path; it is gunicorn's documented heartbeat dir.)
if os.path.isdir("/dev/shm"):  # nosec B108
    worker_tmp_dir = "/dev/shm"  # nosec B108
# forwarded_allow_ips (FORWARDED_ALLOW_IPS) keeps gunicorn's default, 127.0.0.1:
# Django decides what to believe (BEHIND_HTTPS_PROXY, TRUSTED_PROXY_COUNT).


def on_starting(server):
    """Refuse to serve a production site that lacks what only production needs.

    Settings refuse most bad values at import; tickets/checks.py holds the ones a
    development or benchmark server may run without (e.g. the privacy contact).
    """
    import django
    from django.conf import settings
    from django.core.checks import ERROR, run_checks

    # Before mesaayuda.wsgi is imported (which would set it), so named here too.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesaayuda.settings")
    django.setup()
    if settings.DEBUG:
        return
    errors = [
        e
        for e in run_checks(include_deployment_checks=True, tags=["security"])
        if e.level >= ERROR and e.id.startswith("tickets.")
    ]
    if errors:
        raise RuntimeError("\n".join(str(e) for e in errors))
