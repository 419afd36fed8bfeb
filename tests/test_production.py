"""The Docker image's steps, run without Docker: the build context .dockerignore
leaves, docker/build-steps.sh, docker/entrypoint.sh, gunicorn.conf.py, and the
portal served by gunicorn with production settings.

The slow group (a real collectstatic, migrate and gunicorn) is marked
``production`` and left out of the default run: ``pytest -m production``.
"""

import contextlib
import fnmatch
import http.client
import json
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import reverse

from tests.test_settings import production_env

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def dockerignore_patterns():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def dockerignored(rel, patterns):
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        if pattern.startswith("**/"):
            matched = fnmatch.fnmatch(rel.rsplit("/", 1)[-1], pattern[3:])
        else:
            matched = fnmatch.fnmatch(rel, pattern)
        if matched:
            ignored = not negated
    return ignored


def copy_build_context(dest):
    """What `COPY . .` puts in the image: the tree less what .dockerignore leaves out."""
    patterns = dockerignore_patterns()

    def ignore(directory, names):
        rel_dir = Path(directory).relative_to(ROOT).as_posix()
        rel = lambda name: name if rel_dir == "." else f"{rel_dir}/{name}"  # noqa: E731
        return [n for n in names if dockerignored(rel(n), patterns)]

    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def run_env(**extra):
    """The image's environment: the virtualenv first on PATH, like /venv/bin."""
    return {"PATH": f"{BIN}:/usr/bin:/bin", "LANG": "C.UTF-8", **extra}


# --- the build context and the files the image is made of ------------------------------
def test_the_build_context_holds_the_code_but_no_secrets_or_local_state():
    patterns = dockerignore_patterns()
    for kept in [
        "manage.py",
        "gunicorn.conf.py",
        "docker/entrypoint.sh",
        "tickets/models/ticket.py",
        "templates/base.html",
        "static/css/portal.css",
        "locale/es/LC_MESSAGES/django.po",
        ".env.example",
    ]:
        assert not dockerignored(kept, patterns), kept
    for left_out in [
        ".env",
        ".git",
        ".venv",
        "var",
        "staticfiles",
        "tests",
        "tickets/__pycache__",
        "tickets/x.pyc",
    ]:
        assert dockerignored(left_out, patterns), left_out


def test_the_dockerfile_is_two_stages_non_root_with_a_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM python:3\.11-slim", text, re.MULTILINE)) == 2
    assert "RUN sh docker/build-steps.sh" in text
    assert re.search(r"^USER app$", text, re.MULTILINE)
    assert "HEALTHCHECK" in text and "docker/healthcheck.py" in text
    assert 'CMD ["gunicorn", "--config", "gunicorn.conf.py", "mesaayuda.wsgi"]' in text
    for script in ["build-steps.sh", "entrypoint.sh", "healthcheck.py"]:
        assert (ROOT / "docker" / script).exists()


def test_gunicorn_accepts_its_config():
    r = subprocess.run(
        [BIN / "gunicorn", "--check-config", "-c", "gunicorn.conf.py", "mesaayuda.wsgi"],
        cwd=ROOT,
        env=run_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_gunicorn_refuses_a_bad_worker_count():
    r = subprocess.run(
        [BIN / "gunicorn", "--check-config", "-c", "gunicorn.conf.py", "mesaayuda.wsgi"],
        cwd=ROOT,
        env=run_env(GUNICORN_WORKERS="many"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0
    assert "GUNICORN_WORKERS must be a whole number, not 'many'" in r.stdout + r.stderr


def test_gunicorn_refuses_to_serve_production_without_a_privacy_contact(tmp_path):
    env = run_env(
        **production_env(
            HELPDESK_NOTIFY_EMAIL=None,
            PRIVACY_CONTACT_EMAIL=None,
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            EMAIL_URL="dummymail://",
            PORT=str(free_port()),
        )
    )
    r = subprocess.run(
        [BIN / "gunicorn", "-c", "gunicorn.conf.py", "mesaayuda.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0
    assert "tickets.E001" in r.stdout + r.stderr


def test_the_entrypoint_runs_the_command_without_migrating_unless_asked(tmp_path):
    db = tmp_path / "db.sqlite3"
    r = subprocess.run(
        ["sh", ROOT / "docker" / "entrypoint.sh", "sh", "-c", "echo ran $0", "it"],
        env=run_env(DATABASE_URL=f"sqlite:///{db}"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ran it\n"
    assert not db.exists()


def test_the_entrypoint_refuses_an_unclear_run_migrations():
    r = subprocess.run(
        ["sh", ROOT / "docker" / "entrypoint.sh", "true"],
        env=run_env(RUN_MIGRATIONS="please"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "RUN_MIGRATIONS must be 1 or 0" in r.stderr


# --- pages satisfy the Content-Security-Policy -----------------------------------------
class InlineCode(HTMLParser):
    """What `script-src 'self'; style-src 'self'` would block: inline scripts and styles."""

    def __init__(self):
        super().__init__()
        self.found = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src"):
            self._in = "script"
        if tag == "style":
            self._in = "style"
        for name, value in attrs.items():
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}=javascript:…>")

    def handle_data(self, data):
        if self._in and data.strip():
            self.found.append(f"inline <{self._in}>: {data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._in = None


def inline_code(html):
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_the_inline_code_finder_does_find_inline_code():
    assert inline_code(
        '<p style="color:red" onclick="x()">a</p><script>alert(1)</script><style>p{}</style>'
    ) == [
        "<p style=…>",
        "<p onclick=…>",
        "inline <script>: alert(1)",
        "inline <style>: p{}",
    ]
    assert (
        inline_code(
            '<script src="/static/a.js"></script><link rel="stylesheet" href="/static/a.css">'
        )
        == []
    )


def test_public_pages_have_no_inline_scripts_or_styles(client, ticket):
    for url in [
        "/",
        "/ticket/nuevo/",
        "/ticket/ver/",
        "/ticket/olvide-mi-id/",
        f"/ticket/{ticket.tracking_id}/",
        f"/ticket/{ticket.tracking_id}/resolver/",
        "/limite-de-carga/",
        "/contactos-regionales/",
        "/no-existe/",
    ]:
        r = client.get(url)
        assert r.status_code in (200, 404), url
        assert "script-src 'self'" in r["Content-Security-Policy"]
        assert r["Permissions-Policy"] and r["Referrer-Policy"] == "same-origin"
        assert inline_code(r.content.decode()) == [], url


def test_the_admin_works_under_the_same_policy(client, ticket):
    # Django 5.2's admin loads every script from a file; its one inline <style>
    # (change_list.html) appears only if a list hides both action bars.
    boss = User.objects.create_superuser(
        "jefa", "jefa@desarrollosocial.gob.cl", "clave-de-prueba-123"
    )
    client.force_login(boss, backend="tickets.auth_backend.OneQueryModelBackend")
    urls = [reverse("admin:index"), reverse("admin:tickets_ticket_change", args=[ticket.pk])]
    for model in admin.site._registry:
        urls.append(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, url
        assert inline_code(r.content.decode()) == [], url


# --- the slow group: the image's steps for real ----------------------------------------
@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """The build stage, outside Docker: the build context, then docker/build-steps.sh."""
    app = copy_build_context(tmp_path_factory.mktemp("image") / "app")
    for mo in app.glob("**/LC_MESSAGES/*.mo"):
        mo.unlink()  # so that the build has to compile them
    r = subprocess.run(
        ["sh", "docker/build-steps.sh", str(app / "staticfiles")],
        cwd=app,
        env=run_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return app


@pytest.fixture(scope="module")
def migrated_db(image, tmp_path_factory):
    db = tmp_path_factory.mktemp("data") / "db.sqlite3"
    r = subprocess.run(
        ["sh", "docker/entrypoint.sh", "python", "-c", "print('command ran')"],
        cwd=image,
        env=run_env(**production_env(DATABASE_URL=f"sqlite:///{db}"), RUN_MIGRATIONS="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith("command ran")
    return db


@pytest.mark.production
def test_the_build_compiles_translations_and_collects_hashed_compressed_static(image):
    assert (image / "locale" / "es" / "LC_MESSAGES" / "django.mo").stat().st_size > 0
    assert (image / "locale" / "en" / "LC_MESSAGES" / "django.mo").stat().st_size > 0
    static = image / "staticfiles"
    manifest = json.loads((static / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/portal.css"]
    assert re.fullmatch(r"css/portal\.[0-9a-f]{12}\.css", hashed)
    assert (static / hashed).exists() and (static / f"{hashed}.gz").exists()
    assert (static / manifest["paths"]["admin/css/base.css"]).exists()


@pytest.mark.production
def test_the_entrypoint_migrates_when_asked(migrated_db):
    with sqlite3.connect(migrated_db) as conn:
        applied = conn.execute(
            "SELECT count(*) FROM django_migrations WHERE app = 'tickets'"
        ).fetchone()[0]
        regions = conn.execute("SELECT count(*) FROM tickets_region").fetchone()[0]
    assert applied > 0
    assert regions == 17


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(image, migrated_db, tmp_path_factory, args=(), **overrides):
    """The image's CMD through its entry point, with production settings from .env.example."""
    port = free_port()
    env = run_env(
        **production_env(
            DATABASE_URL=f"sqlite:///{migrated_db}",
            ALLOWED_HOSTS="127.0.0.1",
            EMAIL_URL="dummymail://",
            STATIC_ROOT=str(image / "staticfiles"),
            MEDIA_ROOT=str(tmp_path_factory.mktemp("media")),
            PORT=str(port),
            **overrides,
        )
    )
    log = tmp_path_factory.mktemp("log") / "gunicorn.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                "sh",
                "docker/entrypoint.sh",
                "gunicorn",
                "--config",
                "gunicorn.conf.py",
                *args,
                "mesaayuda.wsgi",
            ],
            cwd=image,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"gunicorn did not start:\n{log.read_text()}") from None
                time.sleep(0.05)
        yield {"port": port, "log": log, "env": env, "image": image}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def gunicorn(image, migrated_db, tmp_path_factory):
    with serve(
        image, migrated_db, tmp_path_factory, GUNICORN_WORKERS="1", GUNICORN_THREADS="2"
    ) as server:
        yield server


def fetch(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r, body


HTTPS = {"X-Forwarded-Proto": "https"}


@pytest.mark.production
def test_gunicorn_serves_the_portal_with_its_security_headers(gunicorn):
    r, body = fetch(gunicorn["port"], "/", HTTPS)
    assert r.status == 200
    assert "script-src 'self'" in r.getheader("Content-Security-Policy")
    assert r.getheader("Strict-Transport-Security") == "max-age=31536000; includeSubDomains"
    assert r.getheader("Referrer-Policy") == "same-origin"
    assert r.getheader("Permissions-Policy")
    assert re.search(rb'href="/static/css/portal\.[0-9a-f]{12}\.css"', body)


@pytest.mark.production
def test_gunicorn_redirects_plain_http_to_https(gunicorn):
    r, _ = fetch(gunicorn["port"], "/")
    assert r.status == 301
    assert r.getheader("Location") == "https://127.0.0.1/"


@pytest.mark.production
def test_whitenoise_serves_hashed_css_compressed_and_cached_for_ever(gunicorn):
    _, body = fetch(gunicorn["port"], "/", HTTPS)
    css = re.search(rb'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', body)[1].decode()
    r, _ = fetch(gunicorn["port"], css, {**HTTPS, "Accept-Encoding": "gzip"})
    assert r.status == 200
    assert r.getheader("Content-Encoding") == "gzip"
    assert "max-age=315360000" in r.getheader("Cache-Control")
    assert "immutable" in r.getheader("Cache-Control")


@pytest.mark.production
def test_the_health_check_answers_the_docker_probe(gunicorn):
    r, body = fetch(gunicorn["port"], "/healthz", {"Host": "10.0.0.7"})
    assert (r.status, body) == (200, b"ok\n")
    probe = subprocess.run(
        [sys.executable, "docker/healthcheck.py"],
        cwd=gunicorn["image"],
        env=gunicorn["env"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert probe.returncode == 0, probe.stderr


@pytest.mark.production
def test_the_docker_probe_fails_when_nothing_answers(gunicorn):
    probe = subprocess.run(
        [sys.executable, "docker/healthcheck.py"],
        cwd=gunicorn["image"],
        env={**gunicorn["env"], "PORT": str(free_port())},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert probe.returncode == 1


@pytest.mark.production
def test_gunicorn_and_django_log_a_missing_ticket_by_its_short_id_only(gunicorn):
    r, _ = fetch(gunicorn["port"], "/ticket/AEU-YBD-GHJL/", HTTPS)
    assert r.status == 404
    deadline = time.monotonic() + 10
    while '/ticket/AEU-…/ HTTP/1.1" 404' not in gunicorn["log"].read_text(encoding="utf-8"):
        assert time.monotonic() < deadline, gunicorn["log"].read_text(encoding="utf-8")
        time.sleep(0.05)
    log = gunicorn["log"].read_text(encoding="utf-8")
    assert "WARNING django.request Not Found: /ticket/AEU-…/" in log
    assert "YBD" not in log


# --- rate limits shared by several workers ----------------------------------------------
LIMIT = 5


@pytest.fixture(scope="module")
def four_workers(image, migrated_db, tmp_path_factory):
    """Four gunicorn workers, no CACHE_URL, limits of 5: the access log names each
    request's worker, to show the requests were spread."""
    with serve(
        image,
        migrated_db,
        tmp_path_factory,
        args=["--access-logformat", 'pid=%(p)s "%(r)s" %(s)s'],
        GUNICORN_WORKERS="4",
        GUNICORN_THREADS="1",
        RATELIMIT_SUBMIT=f"{LIMIT}/h",
        RATELIMIT_LOOKUP=f"{LIMIT}/h",
        CAPTCHA_TEST_MODE="1",
        EMAIL_SEND_ON_COMMIT="0",
    ) as server:
        yield server


def request(port, method, path, *, ip, body=None, cookie=""):
    """One request on a new connection, as from client ``ip`` behind the proxy over HTTPS."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {
        "Host": "127.0.0.1",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": ip,
        "Origin": "https://127.0.0.1",
        "Cookie": cookie,
    }
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    content = r.read()
    conn.close()
    return r, content


def workers_that_served(log, path):
    lines = log.read_text(encoding="utf-8").splitlines()
    # gunicorn writes the pid as <1234>.
    pattern = re.compile(rf'pid=<(\d+)> "\w+ {re.escape(path)}')
    return {m[1] for line in lines if (m := pattern.search(line))}


@pytest.mark.production
def test_with_four_workers_the_sixth_submission_is_refused_and_stays_refused(
    four_workers, migrated_db
):
    port = four_workers["port"]
    with sqlite3.connect(migrated_db) as conn:
        category = conn.execute("SELECT id FROM tickets_category ORDER BY id").fetchone()[0]
        region = conn.execute("SELECT id FROM tickets_region WHERE code = 'AP'").fetchone()[0]
    r, body = request(port, "GET", "/ticket/nuevo/", ip="203.0.113.10")
    assert r.status == 200
    csrf_cookie = re.search(r"csrftoken=([^;]+)", r.getheader("Set-Cookie"))[1]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)[1].decode()
    statuses = []
    for i in range(LIMIT + 3):
        form = {
            "csrfmiddlewaretoken": token,
            "submission_token": str(uuid.uuid4()),
            "name": "Alicia Rojas",
            "email": f"alicia{i}@desarrollosocial.gob.cl",
            "category": category,
            "region": region,
            "project_number": "29928",
            "message": "No puedo ingresar la rendición.",
            "captcha_0": "abc",
            "captcha_1": "PASSED",
        }
        r, _ = request(
            port,
            "POST",
            "/ticket/nuevo/",
            ip="203.0.113.10",
            body=urlencode(form),
            cookie=f"csrftoken={csrf_cookie}",
        )
        statuses.append(r.status)
    assert statuses == [302] * LIMIT + [429] * 3
    served_by = workers_that_served(four_workers["log"], "/ticket/nuevo/")
    assert len(served_by) > 1, four_workers["log"].read_text(encoding="utf-8")[-3000:]


@pytest.mark.production
def test_with_four_workers_the_sixth_failed_look_up_is_refused_and_stays_refused(four_workers):
    port = four_workers["port"]
    statuses = [
        request(port, "GET", f"/ticket/{tracking_id}/", ip="203.0.113.20")[0].status
        for tracking_id in [f"AEU-YBD-GH{a}{b}" for a in "JLMN" for b in "PQ"]
    ]
    assert statuses == [404] * LIMIT + [429] * 3
    # Another client still has its own budget.
    assert request(port, "GET", "/ticket/AEU-YBD-ZZZZ/", ip="203.0.113.21")[0].status == 404
