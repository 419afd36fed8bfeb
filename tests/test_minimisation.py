"""Ley 21.719, minimisation: logs never hold message text, file content or full e-mail addresses."""

import logging
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import PDF, pdf, submission_data, ticket_form_data
from tickets.models import Ticket

EMAIL = "ximena.fuentes@desarrollosocial.gob.cl"
MESSAGE = "Texto confidencial del ticket: el RUT 12.345.678-9 no valida."
REPLY = "Respuesta confidencial del solicitante con su teléfono 22 123 4567."
AGENT_REPLY = "Respuesta confidencial del agente para Ximena."
SECRETS = [
    EMAIL,
    MESSAGE,
    REPLY,
    AGENT_REPLY,
    "12.345.678-9",
    "22 123 4567",
    PDF.decode("latin-1")[:20],
]


@pytest.fixture
def every_log(caplog, monkeypatch):
    """Every record at DEBUG, django.request's too (it does not propagate)."""
    monkeypatch.setattr(logging.getLogger("django.request"), "propagate", True)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.request")
    return caplog


def logged(caplog) -> str:
    lines = []
    for r in caplog.records:
        lines.append(r.getMessage())
        if r.exc_info:
            lines.append(logging.Formatter().formatException(r.exc_info))
    return "\n".join(lines)


def submit_reply_and_answer(client, agent):
    r = client.post(
        "/ticket/nuevo/", submission_data(email=EMAIL, message=MESSAGE, attachments=[pdf()])
    )
    assert r.status_code == 302
    ticket = Ticket.objects.get(email=EMAIL)
    assert (
        client.post(f"/ticket/{ticket.tracking_id}/responder/", {"message": REPLY}).status_code
        == 302
    )
    client.post(
        f"/ticket/{ticket.tracking_id}/responder/", {"message": ""}
    )  # refused: a 400 gets logged
    client.post(
        "/ticket/olvide-mi-id/", {"email": EMAIL, "captcha_0": "abc", "captcha_1": "PASSED"}
    )
    client.force_login(agent)
    r = client.post(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
        ticket_form_data(ticket, reply_kind="public", reply_message=AGENT_REPLY),
    )
    assert r.status_code == 302 and ticket.replies.filter(message=AGENT_REPLY).exists()
    call_command("send_queued_mail", stdout=StringIO())
    assert EMAIL in {to for m in mail.outbox for to in m.to}
    return ticket


def test_submitting_replying_and_sending_mail_logs_no_message_and_no_address(
    client, agent, every_log
):
    submit_reply_and_answer(client, agent)
    text = logged(every_log)
    for secret in SECRETS:
        assert secret not in text
    assert "ximena" not in text.lower()


def test_the_capture_does_see_what_the_portal_logs(client, agent, every_log):
    ticket = submit_reply_and_answer(client, agent)
    text = logged(every_log)
    assert f"ticket submitted: number={ticket.number}" in text
    assert "Bad Request: /ticket/" in text
