"""Pages with a ticket or a requester's data stay out of caches and search engines (issue 22, 1).

And every public page answers 405 to a method it does not serve (TRACE, PUT, DELETE…).
"""

import pytest
from captcha.models import CaptchaStore
from django.urls import get_resolver, reverse

from tests.conftest import make_ticket, pdf, submission_data
from tests.security.helpers import FORGOTTEN, LOOKUP, SUBMIT
from tickets import ratings, tracking
from tickets.models import Attachment

ALICIA = "alicia@desarrollosocial.gob.cl"


@pytest.fixture
def own_ticket(client, db):
    """Alicia's ticket, with a file, opened in her browser as the confirmation page does."""
    client.post(SUBMIT, {**submission_data(), "attachments": [pdf()]})
    return Attachment.objects.get().ticket


def _paths(t):
    a = t.attachments.get()
    return {
        "ticket": f"/ticket/{t.tracking_id}/",
        "attachment": f"/ticket/{t.tracking_id}/adjunto/{a.pk}/",
        "reply": f"/ticket/{t.tracking_id}/responder/",
        "resolve": f"/ticket/{t.tracking_id}/resolver/",
    }


# Each public URL that shows a ticket or what a requester typed, and how it is reached.
def rating_link(t):
    t.mark_resolved()
    return reverse("tickets:rate_by_link", args=[ratings.token_for(t)])


PERSONAL = {
    "the confirmation page": lambda c, t: c.get("/ticket/enviado/"),
    "the ticket page": lambda c, t: c.get(_paths(t)["ticket"]),
    "an attachment": lambda c, t: c.get(_paths(t)["attachment"]),
    "the resolve confirmation": lambda c, t: c.get(_paths(t)["resolve"]),
    "a refused reply shown again": lambda c, t: c.post(_paths(t)["reply"], {"message": ""}),
    "a refused submission shown again": lambda c, t: c.post(
        SUBMIT, submission_data(message="", name="Alicia Rojas")
    ),
    "the look-up form with an ID from a link": lambda c, t: c.get(f"{LOOKUP}?id={t.tracking_id}"),
    "a failed look-up": lambda c, t: c.post(LOOKUP, {"tracking_id": tracking.new_tracking_id()}),
    "the forgotten-ID page after sending": lambda c, t: c.post(FORGOTTEN, {"email": ALICIA}),
    "a successful look-up's redirect": lambda c, t: c.post(LOOKUP, {"tracking_id": t.tracking_id}),
    "forgetting this browser's tickets": lambda c, t: c.post("/ticket/olvidar/"),
    "a refused rating shown again": lambda c, t: c.post(f"/ticket/{t.tracking_id}/calificar/", {}),
    "the rating page from an e-mail link": lambda c, t: c.get(rating_link(t)),
    "the captcha read aloud": lambda c, t: c.get(
        reverse("tickets:captcha_audio", args=[CaptchaStore.generate_key()])
    ),
}
# Named routes of tickets/urls.py that show nothing personal; every other one is in PERSONAL.
INFORMATION = {"home", "upload_limits", "regional_contacts", "privacy_notice"}
COVERED = {
    "submit",
    "submitted",
    "lookup",
    "forgotten_id",
    "ticket",
    "reply",
    "resolve",
    "attachment",
    "forget",
    "rate",
    "rate_by_link",
    "captcha_audio",
}


@pytest.mark.parametrize("case", PERSONAL)
def test_a_page_with_personal_data_is_never_stored_nor_indexed(client, own_ticket, case):
    r = PERSONAL[case](client, own_ticket)
    assert r.status_code in (200, 302, 400)
    assert r["Cache-Control"] == "private, no-store"
    assert "noindex" in r["X-Robots-Tag"]


@pytest.mark.parametrize("path", ["/", "/limite-de-carga/", "/contactos-regionales/"])
def test_an_information_page_may_be_cached_and_indexed(client, db, path):
    r = client.get(path)
    assert r.status_code == 200
    assert "no-store" not in r.get("Cache-Control", "")
    assert "X-Robots-Tag" not in r


@pytest.mark.parametrize("path", [SUBMIT, LOOKUP, FORGOTTEN])
def test_a_blank_form_stays_cacheable_so_back_gives_typed_text_back(client, db, path):
    # Nothing of anyone's on it; "no-store" would make browsers drop what was typed
    # when the person comes back to it from a 429 page with the Back button.
    r = client.get(path)
    assert r.status_code == 200
    assert "no-store" not in r.get("Cache-Control", "")


def test_every_public_route_is_either_personal_or_information():
    # A new page must be put in one list or the other: nobody forgets the headers.
    routes = {name for name in get_resolver("tickets.urls").reverse_dict if isinstance(name, str)}
    assert routes == INFORMATION | COVERED
    assert not INFORMATION & COVERED


def test_the_confirmation_page_shows_the_tracking_id_it_protects(client, own_ticket):
    # The sibling of the header checks: the page does carry what must not be cached.
    html = client.get("/ticket/enviado/").content.decode()
    assert own_ticket.tracking_id in html


# --- methods a page does not serve ---------------------------------------------------
def _every_public_path(t):
    return ["/", "/limite-de-carga/", "/contactos-regionales/", "/aviso-de-privacidad/"] + [
        SUBMIT,
        "/ticket/enviado/",
        LOOKUP,
        FORGOTTEN,
        *_paths(t).values(),
    ]


@pytest.mark.parametrize("method", ["trace", "put", "delete", "patch"])
def test_a_method_no_page_serves_is_answered_405(client, own_ticket, method):
    for path in _every_public_path(own_ticket):
        r = client.generic(method.upper(), path)
        assert r.status_code == 405, (method, path, r.status_code)
        assert "Allow" in r


def test_the_methods_a_page_serves_still_work(client, own_ticket):
    for path in _every_public_path(own_ticket):
        if path.endswith("/responder/"):
            assert client.post(path, {"message": "Gracias"}).status_code == 302
        else:
            assert client.get(path).status_code == 200, path
            assert client.head(path).status_code == 200, path


def test_trace_on_the_home_page_does_not_echo_the_request(client, db):
    r = client.generic("TRACE", "/", HTTP_COOKIE="sessionid=secreto")
    assert r.status_code == 405
    assert b"secreto" not in r.content


def test_a_ticket_reached_by_another_browser_is_still_private(client, db):
    # Without LOOKUP_REQUIRES_EMAIL a tracking ID alone opens the page; the headers
    # do not depend on the session.
    t = make_ticket()
    r = client.get(f"/ticket/{t.tracking_id}/")
    assert r.status_code == 200 and t.name in r.content.decode()
    assert r["Cache-Control"] == "private, no-store"
