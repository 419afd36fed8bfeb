"""Outgoing mail that can be answered, and the whole trip: an agent answers in admin, the
outbox sends it to a real SMTP server, the requester's mail program answers that exact
message, and the answer appears on the ticket without the quote."""

import io
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import make_ticket, ticket_form_data
from tickets.models import InboundEmail, OutgoingEmail, Reply

pytestmark = pytest.mark.django_db
DESK = "mesaayuda@example.gob.cl"
REQUESTER = "alicia@desarrollosocial.gob.cl"
MARKER = "—— Escriba su respuesta sobre esta línea ——"


@pytest.fixture
def desk(settings):
    settings.INBOUND_EMAIL_ADDRESS = DESK
    settings.DEFAULT_FROM_EMAIL = f"Mesa de Ayuda SIGEC <{DESK}>"


def send():
    call_command("send_queued_mail", stdout=io.StringIO())


def receive(raw: bytes) -> str:
    out = io.StringIO()
    call_command("receive_mail", stdin=io.BytesIO(raw), stdout=out)
    return out.getvalue()


def answer_in_admin(client, agent, ticket, message):
    client.force_login(agent)
    r = client.post(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
        ticket_form_data(ticket, reply_kind="public", reply_message=message),
    )
    assert r.status_code == 302


def reply_as_gmail(received, body):
    """What Gmail sends when Alicia presses "Responder" on ``received``."""
    original = received.message
    reply = EmailMessage()
    reply["From"] = f"Alicia Rojas <{REQUESTER}>"
    reply["To"] = original["Reply-To"]
    reply["Subject"] = "Re: " + received.subject
    reply["Message-ID"] = make_msgid(domain="mail.gmail.com")
    reply["In-Reply-To"] = original["Message-ID"]
    reply["References"] = original["Message-ID"]
    quoted = "\n".join("> " + line if line else ">" for line in received.text.splitlines())
    reply.set_content(
        f"{body}\n\nEl lun, 7 dic 2026 a las 10:15, Mesa de Ayuda SIGEC (<\n{DESK}>) escribió:\n\n{quoted}\n"
    )
    return bytes(reply)


def reply_as_outlook(received, body):
    """Outlook neither quotes with ">" nor keeps the subject tag's spacing, and says RE:."""
    original = received.message
    reply = EmailMessage()
    reply["From"] = REQUESTER
    reply["To"] = DESK
    reply["Subject"] = "RE: " + received.subject.replace("[#", "[# ")
    reply["Message-ID"] = make_msgid(domain="exchangelabs.com")
    reply["In-Reply-To"] = original["Message-ID"]
    header = (
        "________________________________\n"
        f"De: Mesa de Ayuda SIGEC <{DESK}>\n"
        "Enviado: lunes, 7 de diciembre de 2026 10:15\n"
        f"Para: Alicia Rojas <{REQUESTER}>\n"
        f"Asunto: {received.subject}\n\n"
    )
    reply.set_content(f"{body}\n\n{header}{received.text}", charset="windows-1252")
    return bytes(reply)


# --- what goes out ---------------------------------------------------------------------------
def test_a_ticket_email_can_be_answered_and_stops_auto_responders(desk, smtp_server, agent):
    ticket = make_ticket()
    send()
    (received,) = smtp_server.inbox.to(REQUESTER)
    row = OutgoingEmail.objects.get(kind="ticket_created")
    assert received.subject.startswith(f"[#{ticket.tracking_id}] ")
    assert received.message["Message-ID"] == row.message_id
    assert row.message_id.endswith("@example.gob.cl>")
    assert received.message["Reply-To"] == DESK
    assert received.message["Auto-Submitted"] == "auto-generated"
    assert received.message["X-Auto-Response-Suppress"] == "All"
    assert received.text.splitlines()[0] == MARKER
    assert MARKER in received.html
    assert "Puede responder a este correo" in received.html


def test_every_row_gets_its_own_message_id(desk, agent):
    make_ticket()
    make_ticket(email="bruno.perez@desarrollosocial.gob.cl")
    ids = list(OutgoingEmail.objects.values_list("message_id", flat=True))
    assert len(ids) == 4 and len(set(ids)) == 4


def test_without_an_inbound_address_mail_asks_for_replies_on_the_portal(settings, smtp_server):
    settings.INBOUND_EMAIL_ADDRESS = ""
    make_ticket()
    send()
    (received,) = smtp_server.inbox.to(REQUESTER)
    assert received.message["Reply-To"] is None
    assert MARKER not in received.text and MARKER not in received.html
    assert "Para responder, use el enlace del ticket" in received.html
    # Auto-responders are told to stay quiet either way.
    assert received.message["Auto-Submitted"] == "auto-generated"


def test_mail_with_no_ticket_has_no_reply_marker(desk):
    make_ticket()
    from tickets import emails

    emails.forgotten_ids(REQUESTER, [])
    assert MARKER not in OutgoingEmail.objects.get(kind="forgotten_ids").body_text


# --- the round trip -------------------------------------------------------------------------------
@pytest.mark.parametrize("program", [reply_as_gmail, reply_as_outlook])
def test_a_requester_answers_the_agents_email_and_the_answer_lands_in_the_ticket(
    desk, smtp_server, agent, client, program
):
    ticket = make_ticket()
    ticket.change(user=agent, assignee=agent)
    answer_in_admin(client, agent, ticket, "Revisamos su proyecto: intente nuevamente.")
    send()
    received = [m for m in smtp_server.inbox.to(REQUESTER) if "Nueva respuesta" in m.subject][0]

    assert receive(program(received, "Gracias, ya funciona.")).startswith("applied")

    reply = ticket.replies.get(kind=Reply.Kind.REQUESTER)
    assert reply.message == "Gracias, ya funciona."
    assert reply.channel == Reply.Channel.EMAIL
    # The agent is told, by mail, through the same outbox.
    send()
    (notice,) = smtp_server.inbox.to(agent.email)
    assert "Gracias, ya funciona." in notice.text
    # And the page staff read says it came by mail.
    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    assert "por correo" in page.content.decode()


def test_an_answer_to_the_message_from_someone_else_is_held(desk, smtp_server, agent, client):
    ticket = make_ticket()
    answer_in_admin(client, agent, ticket, "Revisamos su proyecto.")
    send()
    received = [m for m in smtp_server.inbox.to(REQUESTER) if "Nueva respuesta" in m.subject][0]
    raw = reply_as_gmail(received, "Soy su jefe.").replace(
        REQUESTER.encode(), b"jefe@desarrollosocial.gob.cl", 1
    )
    receive(raw)
    assert not ticket.replies.filter(kind=Reply.Kind.REQUESTER).exists()
    assert InboundEmail.objects.get().state == InboundEmail.State.UNMATCHED


def test_an_out_of_office_answer_to_the_agents_email_sends_nothing_back(
    desk, smtp_server, agent, client
):
    ticket = make_ticket()
    answer_in_admin(client, agent, ticket, "Revisamos su proyecto.")
    send()
    before = len(smtp_server.messages)
    received = [m for m in smtp_server.inbox.to(REQUESTER) if "Nueva respuesta" in m.subject][0]
    msg = message_from_bytes(
        reply_as_gmail(received, "Estoy de vacaciones."), policy=policy.default
    )
    msg["Auto-Submitted"] = "auto-replied"
    receive(bytes(msg))
    send()
    assert len(smtp_server.messages) == before
    assert not ticket.replies.filter(kind=Reply.Kind.REQUESTER).exists()
