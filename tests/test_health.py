import logging

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.test.signals import template_rendered


@pytest.fixture
def templates_rendered():
    seen = []

    def record(sender, template, context, **kwargs):
        seen.append(template.name)

    template_rendered.connect(record)
    yield seen
    template_rendered.disconnect(record)


@pytest.fixture
def database_down(db, monkeypatch):
    def cursor(*args, **kwargs):
        raise OperationalError(
            "connection to server at 10.0.0.5 failed: password authentication failed for user mesaayuda"
        )

    # Undone before the test database's own teardown, which needs a cursor.
    with monkeypatch.context() as m:
        m.setattr(connection, "cursor", cursor)
        yield


def test_it_answers_200_when_the_database_answers(
    client, db, django_assert_num_queries, templates_rendered
):
    with django_assert_num_queries(1):
        r = client.get("/healthz")
    assert r.status_code == 200
    assert r.content == b"ok\n"
    assert r["Content-Type"] == "text/plain"
    assert r["Cache-Control"] == "no-store"
    assert templates_rendered == []


def test_it_answers_503_when_the_database_does_not(client, db, database_down, templates_rendered):
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.content == b"database unavailable\n"
    assert templates_rendered == []


def test_it_sets_no_cookie_and_touches_no_session(client, db, django_assert_num_queries):
    # The one query is SELECT 1: a session would be a second one (or a cookie).
    with django_assert_num_queries(1) as ctx:
        r = client.get("/healthz")
    assert "SELECT 1" in ctx.captured_queries[0]["sql"]
    assert "Set-Cookie" not in r.headers
    assert not r.cookies


def test_a_portal_page_does_set_the_session_cookie_the_probe_avoids(client, db):
    # The sibling: the same client on a page that uses the session gets a cookie.
    session = client.session
    session["x"] = 1
    session.save()
    r = client.get("/ticket/nuevo/")
    assert r.status_code == 200
    assert r.cookies


def test_it_answers_any_host_and_plain_http_even_with_https_enforced(client, db, settings):
    # Load balancers and Docker probe by IP over HTTP; a portal page is redirected or refused.
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["mesadeayuda.example.gob.cl"]
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/", HTTP_HOST="10.0.0.7:8000").status_code == 400
    r = client.get("/", HTTP_HOST="mesadeayuda.example.gob.cl")
    assert r.status_code == 301
    assert r["Location"] == "https://mesadeayuda.example.gob.cl/"


def test_it_logs_one_line_naming_the_exception_class_but_not_its_message(
    client, db, database_down, caplog
):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        logger = logging.getLogger("django.request")
        logger.addHandler(caplog.handler)
        try:
            client.get("/healthz")
        finally:
            logger.removeHandler(caplog.handler)
    lines = [r.getMessage() for r in caplog.records if r.name == "django.request"]
    assert lines == ["Service Unavailable: /healthz (OperationalError)"]
    assert "password" not in caplog.text
