"""What the portal gives away: nothing about who has tickets, no full tracking ID in a log."""

import io
import logging

import pytest

from tests.conftest import make_ticket
from tests.security.helpers import FORGOTTEN, LOOKUP, without_csrf
from tickets import tracking
from tickets.models import OutgoingEmail


@pytest.fixture
def log_output():
    """Everything the configured log handlers write, as production would see it."""
    stream = io.StringIO()
    handlers = {
        h
        for name in ("", "django.request")
        for h in logging.getLogger(name).handlers
        if isinstance(h, logging.StreamHandler)
    }
    handlers = {h for h in handlers if type(h) is logging.StreamHandler}
    old = {h: h.setStream(stream) for h in handlers}
    yield stream
    for h, s in old.items():
        h.setStream(s)


def test_no_log_line_holds_a_full_tracking_id(client, db, settings, log_output):
    settings.RATELIMIT_LOOKUP = "2/h"
    t = make_ticket()
    ids = [t.tracking_id] + [tracking.new_tracking_id() for _ in range(3)]
    client.post("/ticket/nuevo/", {})  # a refused form
    client.get(f"/ticket/{ids[1]}/")  # 404
    client.post(LOOKUP, {"tracking_id": ids[2]})  # failed look-up
    client.get(f"/ticket/{t.tracking_id}/")  # 429 now, for the right ID
    client.get(f"/ticket/{ids[3].replace('-', '').lower()}/adjunto/1/")  # 429
    out = log_output.getvalue()
    assert "Too Many Requests: /ticket/" in out and "rate limit: lookup" in out
    for full in ids:
        assert full not in out and full.replace("-", "") not in out.upper().replace(
            "-", ""
        ).replace("…", "")


def test_the_submission_log_line_has_the_short_id_only(client, db, log_output):
    from tests.security.helpers import submit

    submit(client)
    out = log_output.getvalue()
    assert "ticket submitted" in out
    from tickets.models import Ticket

    t = Ticket.objects.get()
    assert tracking.short(t.tracking_id) in out and t.tracking_id not in out


def test_the_forgotten_id_page_never_tells_whether_an_address_has_tickets(client, db, settings):
    settings.RATELIMIT_FORGOTTEN_ID_EMAIL = "1/d"
    make_ticket(email="conocida@example.org")

    def page(email):
        r = client.post(FORGOTTEN, {"email": email})
        return r.status_code, without_csrf(r.content.decode()).replace(email, "EMAIL")

    known, unknown = page("conocida@example.org"), page("desconocida@example.org")
    over_limit = page("conocida@example.org")
    assert known == unknown == over_limit
    assert list(
        OutgoingEmail.objects.filter(kind="forgotten_ids").values_list("to", flat=True)
    ) == ["conocida@example.org"]


def test_the_public_page_never_shows_the_address_or_the_ip(client, db):
    t = make_ticket(email="alicia.rojas@example.org", ip_address="200.1.2.3")
    html = client.get(t.get_absolute_url()).content.decode()
    assert "alicia.rojas@example.org" not in html
    assert "alicia (dot) rojas (at) example (dot) org" in html
    assert "200.1.2.3" not in html
