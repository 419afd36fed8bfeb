"""The requester's whole journey in the manual, through the test client."""

import re

from tests.conftest import pdf, png, submission_data
from tickets.models import Status, Ticket


def test_submit_confirm_look_up_reply_and_resolve(client, db):
    home = client.get("/").content.decode()
    assert (
        "Enviar un ticket" in home
        and "Ver tickets existentes" in home
        and "Contactos regionales" in home
    )

    form = client.get("/ticket/nuevo/").content.decode()
    token = re.search(r'name="submission_token" value="([^"]+)"', form).group(1)
    data = submission_data(submission_token=token, attachments=[pdf(), png()])
    r = client.post("/ticket/nuevo/", data, REMOTE_ADDR="192.168.21.120")
    assert r.status_code == 302

    confirmation = client.get(r["Location"]).content.decode()
    tracking_id = re.search(r'class="tracking-id">([A-Z0-9-]{12})<', confirmation).group(1)
    assert "Su ticket ha sido enviado satisfactoriamente" in confirmation

    r = client.post("/ticket/ver/", {"tracking_id": tracking_id.replace("-", "").lower()})
    assert r["Location"] == f"/ticket/{tracking_id}/"
    page = client.get(r["Location"]).content.decode()
    assert "informe.pdf" in page and "pantalla.png" in page and ">Nuevo<" in page

    r = client.post(
        f"/ticket/{tracking_id}/responder/",
        {"message": "Agrego otro archivo.", "attachments": [pdf("otro.pdf")]},
    )
    assert r.status_code == 302
    assert "otro.pdf" in client.get(r["Location"]).content.decode()

    client.post(f"/ticket/{tracking_id}/resolver/")
    page = client.get(f"/ticket/{tracking_id}/").content.decode()
    assert ">Resuelto<" in page
    assert Ticket.objects.get(tracking_id=tracking_id).status == Status.RESOLVED
