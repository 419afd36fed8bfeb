import re

from tests.conftest import make_ticket
from tickets.models import OutgoingEmail


def test_the_lookup_page_asks_for_the_tracking_id(client, db):
    html = client.get("/ticket/ver/").content.decode()
    assert "Ver tickets existentes" in html
    assert "ID de seguimiento" in html
    assert "¿Olvidó su ID de seguimiento?" in html


def test_a_tracking_id_typed_loosely_opens_the_ticket(client, ticket):
    typed = " " + ticket.tracking_id.replace("-", " ").lower() + " "
    r = client.post("/ticket/ver/", {"tracking_id": typed})
    assert r.status_code == 302 and r["Location"] == f"/ticket/{ticket.tracking_id}/"


def test_an_unknown_tracking_id_gets_a_clear_message_and_keeps_what_was_typed(client, db):
    r = client.post("/ticket/ver/", {"tracking_id": "aaa-bbb-2222"})
    html = r.content.decode()
    assert r.status_code == 200
    assert "No encontramos un ticket con esos datos" in html
    assert 'value="aaa-bbb-2222"' in html


def test_a_malformed_tracking_id_explains_the_shape(client, db):
    r = client.post("/ticket/ver/", {"tracking_id": "12345"})
    assert "tiene 10 letras y números" in r.content.decode()


def test_with_email_required_a_wrong_email_does_not_open_the_ticket(client, ticket, settings):
    settings.LOOKUP_REQUIRES_EMAIL = True
    r = client.post("/ticket/ver/", {"tracking_id": ticket.tracking_id, "email": "otra@persona.cl"})
    assert r.status_code == 200
    assert "No encontramos un ticket con esos datos" in r.content.decode()


def test_the_forgotten_id_page_emails_the_list_of_tickets(client, db):
    first = make_ticket()
    second = make_ticket()
    make_ticket(email="otra@persona.cl")
    r = client.post("/ticket/olvide-mi-id/", {"email": "ALICIA@desarrollosocial.gob.cl"})
    assert r.status_code == 200
    mail = OutgoingEmail.objects.get(kind="forgotten_ids")
    assert mail.to == "alicia@desarrollosocial.gob.cl"
    assert first.tracking_id in mail.body_text and second.tracking_id in mail.body_text
    assert f"/ticket/{first.tracking_id}/" in mail.body_html
    assert "otra@persona.cl" not in mail.body_text


def test_the_forgotten_id_page_answers_the_same_for_an_unknown_address(client, db):
    make_ticket()
    known = client.post("/ticket/olvide-mi-id/", {"email": "alicia@desarrollosocial.gob.cl"})
    unknown = client.post("/ticket/olvide-mi-id/", {"email": "nadie@desarrollosocial.gob.cl"})
    assert known.status_code == unknown.status_code == 200

    def strip(r, email):
        html = r.content.decode().replace(email, "EMAIL")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert strip(known, "alicia@desarrollosocial.gob.cl") == strip(
        unknown, "nadie@desarrollosocial.gob.cl"
    )
    assert not OutgoingEmail.objects.filter(
        kind="forgotten_ids", to="nadie@desarrollosocial.gob.cl"
    ).exists()


def test_the_forgotten_id_page_refuses_an_invalid_address(client, db):
    r = client.post("/ticket/olvide-mi-id/", {"email": "a@b.cl, c@d.cl"})
    assert "Introduzca una dirección de correo electrónico válida." in r.content.decode()
    assert not OutgoingEmail.objects.filter(kind="forgotten_ids").exists()
