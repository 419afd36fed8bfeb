import logging
import subprocess
import sys
from pathlib import Path

import pytest

from tickets.logging import RedactingFormatter, gunicorn_access_atoms, redact
from tickets.views import ticket as views


@pytest.fixture
def request_log(caplog, monkeypatch):
    """django.request's records as its own handler sees them (it does not propagate)."""
    monkeypatch.setattr(logging.getLogger("django.request"), "propagate", True)
    caplog.set_level(logging.WARNING, logger="django.request")
    return caplog


def request_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "django.request"]


def stderr_handler():
    # pytest adds its own capturing handlers next to ours.
    return next(
        h
        for h in logging.getLogger("django.request").handlers
        if isinstance(h.formatter, RedactingFormatter)
    )


def test_a_missing_ticket_logs_one_line_with_the_short_id(client, db, request_log):
    assert client.get("/ticket/1N7-XQE-RW26/").status_code == 404
    assert request_lines(request_log) == ["Not Found: /ticket/1N7-…/"]
    assert "XQE" not in request_log.text


def test_it_shortens_an_id_typed_in_lower_case_without_dashes(client, db, request_log):
    client.get("/ticket/1n7xqerw26/adjunto/5/")
    assert request_lines(request_log) == ["Not Found: /ticket/1N7-…/adjunto/5/"]


def test_another_tickets_attachment_logs_the_short_id(client, ticket, request_log):
    assert client.get(f"/ticket/{ticket.tracking_id}/adjunto/999/").status_code == 404
    assert request_lines(request_log) == [
        f"Not Found: /ticket/{ticket.tracking_id[:3]}-…/adjunto/999/"
    ]
    assert ticket.tracking_id not in request_log.text


def test_a_rejected_reply_logs_no_message_and_no_email(client, ticket, request_log):
    r = client.post(f"/ticket/{ticket.tracking_id}/responder/", {"message": ""})
    assert r.status_code == 400
    assert request_lines(request_log) == [
        f"Bad Request: /ticket/{ticket.tracking_id[:3]}-…/responder/"
    ]
    assert ticket.email not in request_log.text
    assert "rendición" not in request_log.text


def test_pages_under_ticket_that_are_not_ids_keep_their_path(client, db, request_log):
    assert client.put("/ticket/nuevo/").status_code == 405
    assert request_lines(request_log) == ["Method Not Allowed (PUT): /ticket/nuevo/"]


def test_a_successful_page_logs_nothing(client, ticket, request_log):
    assert client.get(f"/ticket/{ticket.tracking_id}/").status_code == 200
    assert request_lines(request_log) == []


def test_a_server_error_prints_no_full_id_even_in_the_traceback(
    client, ticket, request_log, monkeypatch
):
    def broken(request, template, ctx, **kwargs):
        raise RuntimeError(f"could not render {ctx['ticket'].tracking_id}")

    monkeypatch.setattr(views, "render", broken)
    client.raise_request_exception = False
    assert client.get(f"/ticket/{ticket.tracking_id}/").status_code == 500
    (record,) = [r for r in request_log.records if r.name == "django.request"]
    assert record.getMessage() == f"Internal Server Error: /ticket/{ticket.tracking_id[:3]}-…/"
    printed = stderr_handler().format(record)
    assert "RuntimeError: could not render" in printed
    assert ticket.tracking_id not in printed


def test_the_handler_writes_to_stderr_through_the_redacting_formatter(settings):
    assert settings.LOGGING["handlers"]["stderr"]["stream"] == "ext://sys.stderr"
    handler = stderr_handler()
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: %s",
        ("/ticket/AEU-YBD-GHJL/",),
        None,
    )
    assert handler.filter(record)
    assert handler.format(record).endswith("WARNING django.request Not Found: /ticket/AEU-…/")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("GET /ticket/AEU-YBD-GHJL/ HTTP/1.1", "GET /ticket/AEU-…/ HTTP/1.1"),
        ("/ticket/aeuybdghjl/resolver/", "/ticket/AEU-…/resolver/"),
        ("/ticket/ver/?id=aeu-ybd-ghjl", "/ticket/ver/?id=AEU-…"),
        ("ticket AEU-YBD-GHJL closed", "ticket AEU-… closed"),
        ("/ticket/olvide-mi-id/", "/ticket/olvide-mi-id/"),
        ("/limite-de-carga/", "/limite-de-carga/"),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected
    assert redact(expected) == expected


def test_gunicorn_access_log_fields_are_redacted():
    atoms = {
        "r": "GET /ticket/AEU-YBD-GHJL/adjunto/3/ HTTP/1.1",
        "U": "/ticket/AEU-YBD-GHJL/adjunto/3/",
        "q": "",
        "f": "https://mesadeayuda.example.gob.cl/ticket/AEU-YBD-GHJL/",
        "s": 200,
    }
    out = gunicorn_access_atoms(atoms)
    assert out["r"] == "GET /ticket/AEU-…/adjunto/3/ HTTP/1.1"
    assert out["U"] == "/ticket/AEU-…/adjunto/3/"
    assert out["f"] == "https://mesadeayuda.example.gob.cl/ticket/AEU-…/"
    assert out["s"] == 200


def test_a_cron_commands_stdout_is_its_one_summary_line(tmp_path):
    """Cron mails a command's output: log lines (django-axes' banner, INFO) stay out of it."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SNAPSHOT_DIR": str(tmp_path / "snap"),
    }
    manage = [sys.executable, str(Path(__file__).resolve().parent.parent / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, capture_output=True)
    run = subprocess.run(
        [*manage, "close_stalled_tickets"], env=env, capture_output=True, text=True, check=True
    )
    assert run.stdout.splitlines() == ["closed 0 (Cerrado 0, Resuelto 0), skipped 0, errors 0"]
    assert "AXES" not in run.stdout + run.stderr
