"""Replies by e-mail through ``receive_mail`` (the MTA pipe), with real-shaped messages.

tests/mail/ holds what Gmail, Outlook in Spanish, Apple Mail, an iPhone, a Zimbra
server in ISO-8859-1 and Postfix (a bounce) actually send, answering the
notification of ticket 1N7-XQE-RW26 whose Message-ID is ``OUR``.
"""

import io
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone

from tests.conftest import make_ticket
from tickets import inbound
from tickets.models import InboundEmail, OutgoingEmail, Reply, Status, Ticket

pytestmark = pytest.mark.django_db
MAIL = Path(__file__).parent / "mail"
TRACKING = "1N7-XQE-RW26"
REQUESTER = "alicia@desarrollosocial.gob.cl"
DESK = "mesaayuda@example.gob.cl"
# The Message-IDs of our "Nueva respuesta" notice and of the "Ticket recibido" before it.
OUR = "<177334.9172.4431@mesaayuda.example.gob.cl>"
OUR_FIRST = "<177001.8011.1200@mesaayuda.example.gob.cl>"
State = InboundEmail.State


@pytest.fixture(autouse=True)
def desk(settings):
    settings.INBOUND_EMAIL_ADDRESS = DESK
    settings.DEFAULT_FROM_EMAIL = f"Mesa de Ayuda SIGEC <{DESK}>"


@pytest.fixture
def answered(agent):
    """Ticket 1N7-XQE-RW26, assigned to Bruno, who answered it: waiting on Alicia."""
    ticket = make_ticket()
    Ticket.objects.filter(pk=ticket.pk).update(tracking_id=TRACKING)
    ticket.refresh_from_db()
    ticket.change(user=agent, assignee=agent)
    ticket.add_agent_reply(user=agent, message="Revisamos su proyecto: intente nuevamente.")
    OutgoingEmail.objects.filter(kind="ticket_created").update(message_id=OUR_FIRST)
    OutgoingEmail.objects.filter(kind="agent_replied").update(
        message_id=OUR, state=OutgoingEmail.State.SENT
    )
    ticket.refresh_from_db()
    return ticket


def eml(name: str) -> bytes:
    return (MAIL / name).read_bytes()


def receive(raw: bytes | str) -> str:
    raw = eml(raw) if isinstance(raw, str) else raw
    out = io.StringIO()
    call_command("receive_mail", stdin=io.BytesIO(raw), stdout=out)
    return out.getvalue().strip()


def requester_replies(ticket):
    return list(ticket.replies.filter(kind=Reply.Kind.REQUESTER))


def plain(
    sender=REQUESTER, subject=f"Re: [#{TRACKING}] Nueva respuesta", body="Gracias.", **headers
):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = DESK
    msg["Subject"] = subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return bytes(msg)


# --- replies from real mail programs ------------------------------------------------------
def test_a_gmail_reply_lands_in_the_ticket_without_the_quoted_history(answered, agent):
    assert receive("gmail_reply.eml").startswith("applied")
    (reply,) = requester_replies(answered)
    assert reply.message == (
        "Hola, ya pude ingresar la rendición. Muchas gracias por la ayuda.\n\nSaludos,\nAlicia"
    )
    assert reply.channel == Reply.Channel.EMAIL
    answered.refresh_from_db()
    assert answered.status == Status.WAITING_STAFF
    assert answered.staff_due_at is not None
    # The assignee hears of it, exactly as with a reply on the portal.
    notice = OutgoingEmail.objects.get(kind="requester_replied")
    assert notice.to == agent.email
    assert "Hola, ya pude ingresar" in notice.body_text


def test_the_quote_of_a_gmail_reply_is_not_in_the_ticket(answered):
    receive("gmail_reply.eml")
    (reply,) = requester_replies(answered)
    assert "Escriba su respuesta" not in reply.message
    assert "escribió" not in reply.message
    assert "Revisamos su proyecto" not in reply.message
    # The full text stays with the stored message, for staff.
    row = InboundEmail.objects.get()
    assert "Revisamos su proyecto" in row.text


def test_an_outlook_reply_in_spanish_loses_its_de_enviado_block_and_keeps_its_accents(answered):
    receive("outlook_es_reply.eml")
    (reply,) = requester_replies(answered)
    # Labelled ISO-8859-1, written in windows-1252: the curly quotes and the dash survive.
    assert "El proyecto es el 29928 – “Rendición 2026”." in reply.message
    assert reply.message.endswith("Seremi de Desarrollo Social y Familia, Región Metropolitana")
    assert "De: Mesa de Ayuda" not in reply.message
    assert "____" not in reply.message


def test_an_apple_mail_reply_is_applied_without_its_quote(answered):
    receive("apple_mail_reply.eml")
    (reply,) = requester_replies(answered)
    assert reply.message == "Perfecto, muchas gracias. Ya quedó ingresada.\n\nAlicia"


def test_a_phone_reply_matched_only_by_its_lower_case_subject_tag_is_applied(answered):
    raw = eml("phone_reply.eml")
    assert b"In-Reply-To" not in raw and b"References" not in raw
    receive(raw)
    (reply,) = requester_replies(answered)
    assert reply.message == "Sí, ahora funciona 👍"


def test_a_reply_with_neither_references_nor_a_subject_tag_matches_no_ticket(answered):
    raw = eml("phone_reply.eml").replace(b"[# 1n7-xqe-rw26 ]", b"")
    receive(raw)
    assert requester_replies(answered) == []
    assert InboundEmail.objects.get().state == State.UNMATCHED


def test_an_html_only_message_is_stored_and_applied_as_text_never_as_html(answered, admin_client):
    receive("html_only.eml")
    (reply,) = requester_replies(answered)
    assert reply.message == "Necesito que revisen el proyecto & me avisen.\n\nGracias\nAlicia"
    row = InboundEmail.objects.get()
    for stored in (reply.message, row.text, row.reply_text):
        for markup in ("<p>", "<b>", "<img", "<script", "onerror", "alert(", "color:red"):
            assert markup not in stored
    page = admin_client.get(f"/admin/tickets/inboundemail/{row.pk}/change/")
    assert page.status_code == 200
    assert b"onerror" not in page.content
    assert "revisen el proyecto &amp; me avisen" in page.content.decode()


def test_an_iso_8859_1_message_is_decoded_and_its_signature_dropped(answered):
    receive("iso_8859_1.eml")
    (reply,) = requester_replies(answered)
    assert "Atención: la región es Ñuble, no Biobío." in reply.message
    assert reply.message.endswith("Alicia Peña")
    assert "Analista" not in reply.message  # after "-- "
    assert InboundEmail.objects.get().subject == (
        "Re: [#1N7-XQE-RW26] Atención: corrección del proyecto"
    )


def test_a_message_forwarded_back_by_the_requester_keeps_only_her_words(answered):
    receive("forwarded.eml")
    (reply,) = requester_replies(answered)
    assert reply.message == "Les reenvío esto porque el enlace no me abre. ¿Pueden revisar?"


def test_text_written_under_the_quote_is_kept(answered):
    body = f"El lun, 7 dic 2026, Mesa de Ayuda <{DESK}> escribió:\n> Estimado(a)\n\nYa funciona."
    receive(plain(body=body, In_Reply_To=OUR))
    (reply,) = requester_replies(answered)
    assert reply.message == "Ya funciona."


def test_a_reply_to_a_resolved_ticket_reopens_it(answered, agent):
    answered.mark_resolved(user=agent)
    receive("apple_mail_reply.eml")
    answered.refresh_from_db()
    assert answered.status == Status.WAITING_STAFF
    assert answered.closed_at is None


# --- attachments ---------------------------------------------------------------------------
def test_an_attachment_with_an_accented_rfc_2231_name_keeps_its_name(answered):
    receive("rfc2231_attachment.eml")
    (reply,) = requester_replies(answered)
    (f,) = reply.attachments.all()
    assert f.original_name == "Rendición año 2026.pdf"
    assert f.content_type == "application/pdf"
    assert f.file.read().startswith(b"%PDF-")


def test_an_executable_renamed_pdf_is_refused_and_listed_in_an_internal_note(answered, client):
    receive("exe_as_pdf.eml")
    (reply,) = requester_replies(answered)
    assert [f.original_name for f in reply.attachments.all()] == ["pantalla.png"]
    note = answered.replies.get(is_internal=True)
    assert "factura.pdf" in note.message
    assert "no corresponde a su extensión .pdf" in note.message
    # The message itself is applied, and the requester never sees the staff's note.
    page = client.get(answered.get_absolute_url())
    assert "Envío la factura y una captura de pantalla." in page.content.decode()
    assert "factura.pdf" not in page.content.decode()


def test_files_past_the_per_ticket_total_are_refused(answered, settings):
    settings.TICKET_MAX_TOTAL_SIZE = 100  # the PNG (69 bytes) fits, the PDF (77) then does not
    receive("rfc2231_attachment.eml")
    receive("exe_as_pdf.eml")
    replies = requester_replies(answered)
    assert [f.original_name for r in replies for f in r.attachments.all()] == [
        "Rendición año 2026.pdf"
    ]
    assert "pantalla.png" in answered.replies.filter(is_internal=True).last().message


def test_files_past_the_count_limit_are_refused(answered, settings):
    settings.TICKET_MAX_FILES = 1
    receive("exe_as_pdf.eml".replace("exe_as_pdf", "exe_as_pdf"))
    (reply,) = requester_replies(answered)
    assert reply.attachments.count() == 1


# --- who may reply -------------------------------------------------------------------------
def test_another_sender_quoting_the_tracking_id_is_held_for_staff(answered):
    receive("other_sender.eml")
    assert requester_replies(answered) == []
    row = InboundEmail.objects.get()
    assert row.state == State.UNMATCHED
    assert row.reason == "El remitente no es el solicitante del ticket."
    assert row.ticket == answered
    # Someone who wrote about a real ticket gets no "no ticket" answer.
    assert not OutgoingEmail.objects.filter(kind="inbound_unmatched").exists()


def test_the_requester_address_is_compared_without_regard_to_case(answered):
    receive(plain(sender="ALICIA@DesarrolloSocial.gob.cl"))
    assert len(requester_replies(answered)) == 1


def test_a_reply_to_an_anonymized_ticket_is_held_not_applied(answered):
    answered.anonymize()
    receive("gmail_reply.eml")
    row = InboundEmail.objects.get()
    assert row.state == State.UNMATCHED
    assert row.reason == "El ticket fue anonimizado: ya no recibe respuestas."
    assert requester_replies(answered) == []


# --- no ticket: one answer a day -----------------------------------------------------------
def test_a_message_that_matches_no_ticket_gets_one_spanish_answer_a_day(db):
    receive(plain(sender="nuevo@desarrollosocial.gob.cl", subject="Consulta", body="Hola"))
    receive(plain(sender="nuevo@desarrollosocial.gob.cl", subject="Otra", body="Hola otra vez"))
    (answer,) = OutgoingEmail.objects.filter(kind="inbound_unmatched")
    assert answer.to == "nuevo@desarrollosocial.gob.cl"
    assert "no corresponde a ningún ticket" in answer.body_text
    assert "/ticket/nuevo/" in answer.body_text
    assert list(InboundEmail.objects.values_list("auto_answered", flat=True)) == [False, True]


def test_the_next_day_the_same_sender_is_answered_again(db):
    receive(plain(sender="nuevo@desarrollosocial.gob.cl", subject="Consulta"))
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        receive(plain(sender="nuevo@desarrollosocial.gob.cl", subject="Consulta 2"))
    assert OutgoingEmail.objects.filter(kind="inbound_unmatched").count() == 2


# --- loops -------------------------------------------------------------------------------------
def test_an_out_of_office_is_recorded_but_never_applied_nor_answered(answered):
    queued = OutgoingEmail.objects.count()
    receive("out_of_office.eml")
    row = InboundEmail.objects.get()
    assert row.state == State.IGNORED
    assert "Auto-Submitted: auto-generated" in row.reason
    assert requester_replies(answered) == []
    assert OutgoingEmail.objects.count() == queued


def test_the_same_text_without_auto_reply_headers_is_applied(answered):
    raw = eml("out_of_office.eml")
    raw = raw.replace(b"Auto-Submitted: auto-generated\r\n", b"")
    raw = raw.replace(b"X-Auto-Response-Suppress: All\r\n", b"")
    receive(raw)
    assert len(requester_replies(answered)) == 1


@pytest.mark.parametrize(
    "header",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"Precedence": "list"},
        {"Precedence": "auto_reply"},
        {"X_Autoreply": "yes"},
        {"X_Autorespond": "Vacation"},
        {"X_Auto_Response_Suppress": "OOF"},
        {"List_Id": "<avisos.desarrollosocial.gob.cl>"},
    ],
)
def test_automatic_mail_is_neither_applied_nor_answered(answered, header):
    receive(plain(**header))
    receive(plain(sender="boletin@example.cl", subject="Boletín", **header))
    assert set(InboundEmail.objects.values_list("state", flat=True)) == {State.IGNORED}
    assert requester_replies(answered) == []
    assert not OutgoingEmail.objects.filter(kind="inbound_unmatched").exists()


def test_auto_submitted_no_is_a_person_writing(answered):
    receive(plain(Auto_Submitted="no"))
    assert len(requester_replies(answered)) == 1


def test_a_bounce_marks_our_message_as_bounced_and_reaches_no_conversation(answered):
    other = OutgoingEmail.objects.get(kind="agent_replied")
    queued = OutgoingEmail.objects.count()
    receive("dsn_bounce.eml")
    row = InboundEmail.objects.get()
    assert row.state == State.IGNORED
    assert row.ticket == answered
    bounced = OutgoingEmail.objects.get(message_id=OUR_FIRST)
    assert bounced.state == OutgoingEmail.State.BOUNCED
    assert "5.1.1" in bounced.last_error and "User unknown" in bounced.last_error
    other.refresh_from_db()
    assert other.state == OutgoingEmail.State.SENT
    assert requester_replies(answered) == []
    assert OutgoingEmail.objects.count() == queued


@pytest.mark.parametrize(
    "sender,extra",
    [
        ("postmaster@desarrollosocial.gob.cl", {}),
        (REQUESTER, {"Return_Path": "<>"}),
    ],
)
def test_other_shapes_of_bounce_are_ignored(answered, sender, extra):
    receive(plain(sender=sender, **extra))
    assert InboundEmail.objects.get().state == State.IGNORED
    assert requester_replies(answered) == []


def test_mail_from_our_own_address_is_ignored(answered):
    receive(plain(sender=f"Mesa de Ayuda SIGEC <{DESK}>", In_Reply_To=OUR))
    row = InboundEmail.objects.get()
    assert row.state == State.IGNORED
    assert requester_replies(answered) == []
    assert not OutgoingEmail.objects.filter(kind="inbound_unmatched").exists()


def test_the_same_message_id_twice_is_applied_once(answered):
    assert receive("gmail_reply.eml").startswith("applied")
    assert receive("gmail_reply.eml") == "duplicate: this Message-ID was already received"
    assert len(requester_replies(answered)) == 1
    assert InboundEmail.objects.count() == 1


def test_a_message_without_message_id_is_deduplicated_by_its_bytes(answered):
    raw = plain()
    assert b"Message-ID" not in raw
    receive(raw)
    receive(raw)
    receive(plain(body="Otra cosa."))
    assert len(requester_replies(answered)) == 2


def test_more_messages_than_the_hourly_limit_from_one_sender_are_held(answered, settings):
    settings.INBOUND_MAX_PER_SENDER_HOUR = 3
    for i in range(4):
        receive(plain(body=f"Mensaje {i}"))
    assert len(requester_replies(answered)) == 3
    held = InboundEmail.objects.get(state=State.HELD)
    assert "Más de 3 mensajes de este remitente en una hora" in held.reason
    # An hour later the sender is welcome again.
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        receive(plain(body="Mensaje 5"))
    assert len(requester_replies(answered)) == 4


# --- faults --------------------------------------------------------------------------------------
def test_a_message_over_the_size_cap_is_held_with_a_clear_reason(answered, settings):
    settings.INBOUND_MAX_SIZE = 2048
    raw = eml("gmail_reply.eml")
    assert len(raw) > 2048
    assert receive(raw).startswith("held")
    row = InboundEmail.objects.get()
    assert row.reason.startswith("El mensaje pesa 0.0 MB, más que el máximo de 0.0 MB")
    assert row.sender == REQUESTER and row.subject.endswith("Nueva respuesta a su ticket")
    assert row.size == len(raw) and row.raw is None
    assert requester_replies(answered) == []


def test_a_message_under_the_size_cap_is_read(answered, settings):
    settings.INBOUND_MAX_SIZE = len(eml("gmail_reply.eml"))
    assert receive("gmail_reply.eml").startswith("applied")


def test_garbage_is_stored_as_held_and_the_command_succeeds(db):
    assert receive(b"\x00\xff\xfe esto no es un correo \x89PNG").startswith("held")
    row = InboundEmail.objects.get()
    assert row.reason == "El mensaje no tiene un remitente legible (From)."
    assert row.message_id.endswith("@sin-message-id.invalid>")


def test_a_message_the_parser_chokes_on_is_held_with_the_error(db, monkeypatch):
    def broken(msg):
        raise ValueError("boundary mismatch")

    monkeypatch.setattr(inbound, "_attachments", broken)
    assert receive("gmail_reply.eml").startswith("held")
    assert InboundEmail.objects.get().reason == (
        "No se pudo leer el mensaje: ValueError: boundary mismatch"
    )


def test_a_failure_while_applying_keeps_the_message_held_and_the_ticket_untouched(
    answered, monkeypatch
):
    def broken(self, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Ticket, "add_requester_reply", broken)
    assert receive("gmail_reply.eml").startswith("held")
    row = InboundEmail.objects.get()
    assert row.reason.startswith("Error al aplicarlo")
    assert row.raw is not None
    answered.refresh_from_db()
    assert answered.status == Status.ANSWERED


def test_when_the_message_cannot_be_stored_the_mta_is_told_to_retry(answered, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(InboundEmail, "save", down)
    with pytest.raises(SystemExit) as exit:
        receive("gmail_reply.eml")
    assert exit.value.code == 75


def test_a_long_message_is_cut_with_a_note(answered):
    receive(plain(body="palabra " * 4000))
    (reply,) = requester_replies(answered)
    assert len(reply.message) <= 20000
    assert reply.message.endswith("el texto completo está en Correo entrante]")
    assert len(InboundEmail.objects.get().text) > 30000


def test_the_public_page_shows_which_replies_came_by_mail(answered, client):
    receive("apple_mail_reply.eml")
    page = client.get(answered.get_absolute_url()).content.decode()
    assert page.count("por correo") == 1
    answered.add_requester_reply(message="Desde el portal.")
    page = client.get(answered.get_absolute_url()).content.decode()
    assert page.count("por correo") == 1


def test_anonymizing_the_ticket_deletes_the_mail_it_received(answered):
    receive("gmail_reply.eml")
    receive(plain(sender="nuevo@desarrollosocial.gob.cl", subject="Otra consulta"))
    answered.anonymize()
    assert list(InboundEmail.objects.values_list("sender", flat=True)) == [
        "nuevo@desarrollosocial.gob.cl"
    ]


def test_nul_bytes_in_a_reply_are_dropped_not_fatal(answered):
    receive(plain(body="Hola\x00 mundo", subject=f"Re: [#{TRACKING}] a\x00b"))
    (reply,) = requester_replies(answered)
    assert reply.message == "Hola mundo"
