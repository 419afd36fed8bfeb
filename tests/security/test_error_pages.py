"""What the public sees when something goes wrong: a Spanish page, never a trace or a setting."""

import re

import pytest
from django.test import Client

from tests.conftest import submission_data
from tickets.models import Ticket

pytestmark = pytest.mark.urls("tests.security.urls_boom")

LEAKS = [
    "Traceback",
    "RuntimeError",
    "fallo interno",
    "motivo interno",
    "SECRET_KEY",
    "/srv/mesaayuda",
    "settings.py",
]


@pytest.fixture
def public(client, settings):
    settings.DEBUG = False
    client.raise_request_exception = False
    return client


def assert_no_leak(html, settings):
    for leak in LEAKS + [settings.SECRET_KEY]:
        assert leak not in html, leak


def test_an_unexpected_error_shows_the_spanish_500_page_only(public, db, settings):
    r = public.get("/boom/")
    html = r.content.decode()
    assert r.status_code == 500
    assert "<h1>Tuvimos un problema</h1>" in html
    assert_no_leak(html, settings)


def test_an_ordinary_page_is_not_an_error(public, db):
    assert public.get("/").status_code == 200


def test_not_found_is_a_spanish_404(public, db, settings):
    r = public.get("/no/existe/<script>/")
    html = r.content.decode()
    assert r.status_code == 404
    assert "<h1>Página no encontrada</h1>" in html
    assert "<script>" not in html.split("</header>", 1)[1]
    assert_no_leak(html, settings)


def test_permission_denied_is_a_spanish_403(public, db, settings):
    r = public.get("/prohibido/")
    assert r.status_code == 403
    assert "<h1>Acceso denegado</h1>" in r.content.decode()
    assert_no_leak(r.content.decode(), settings)


def test_a_suspicious_request_is_a_spanish_400(public, db, settings):
    r = public.get("/sospechoso/")
    assert r.status_code == 400
    assert "<h1>Solicitud incorrecta</h1>" in r.content.decode()
    assert_no_leak(r.content.decode(), settings)


def test_a_forged_host_header_is_a_spanish_400(public, db, settings):
    r = public.get("/", HTTP_HOST="evil.example")
    assert r.status_code == 400
    assert "<h1>Solicitud incorrecta</h1>" in r.content.decode()
    assert "evil.example" not in r.content.decode()


# --- CSRF -----------------------------------------------------------------------------------------
def test_a_post_without_csrf_token_is_refused_with_a_spanish_page(db, settings):
    settings.DEBUG = False
    browser = Client(enforce_csrf_checks=True)
    r = browser.post("/ticket/nuevo/", submission_data())
    html = r.content.decode()
    assert r.status_code == 403
    assert "<h1>Acceso denegado</h1>" in html
    assert "CSRF" not in html and "Forbidden" not in html
    assert not Ticket.objects.exists()
    # Nor any other form.
    assert browser.post("/ticket/ver/", {"tracking_id": "AAA-BBB-2222"}).status_code == 403
    assert browser.post("/ticket/olvide-mi-id/", {"email": "a@b.cl"}).status_code == 403


def test_a_post_with_the_pages_csrf_token_is_accepted(db, settings):
    browser = Client(enforce_csrf_checks=True)
    html = browser.get("/ticket/nuevo/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    r = browser.post("/ticket/nuevo/", {**submission_data(), "csrfmiddlewaretoken": token})
    assert r.status_code == 302
    assert Ticket.objects.count() == 1


def test_a_cross_site_post_with_a_stolen_token_but_no_cookie_is_refused(db, settings):
    settings.DEBUG = False
    victim = Client(enforce_csrf_checks=True)
    html = victim.get("/ticket/nuevo/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    attacker = Client(enforce_csrf_checks=True)
    r = attacker.post("/ticket/nuevo/", {**submission_data(), "csrfmiddlewaretoken": token})
    assert r.status_code == 403
    assert not Ticket.objects.exists()


def test_the_429_page_is_spanish_and_tells_when_to_retry(public, db, settings):
    settings.RATELIMIT_LOOKUP = "1/h"
    public.post("/ticket/ver/", {"tracking_id": "AAA-BBB-2222"})
    r = public.post("/ticket/ver/", {"tracking_id": "AAA-BBB-3333"})
    html = r.content.decode()
    assert r.status_code == 429
    assert "<h1>Demasiadas solicitudes</h1>" in html
    assert re.search(r"Espere \d+ minutos? e inténtelo de nuevo", html)
    assert r["Retry-After"].isdigit()
    assert html.count("<h1>") == 1
