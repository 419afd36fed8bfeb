"""Whatever the requester writes is text: escaped on public pages, in admin and in e-mails."""

import html as htmllib

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import PDF, make_ticket, pdf
from tests.security.helpers import FORGOTTEN, LOOKUP, PAYLOADS, submit
from tickets.models import OutgoingEmail, Ticket

# Tags and attributes a browser would run, were the payload not escaped.
LIVE = ["<script>", "<svg onload", "<img src=x onerror", "<iframe src=javascript"]


def assert_inert(html):
    for live in LIVE:
        assert live not in html, live


@pytest.fixture
def hostile(db):
    """A ticket whose every free-text field, and one file name, carries a payload."""
    name, message, file_name = PAYLOADS[1], "\n".join(PAYLOADS), PAYLOADS[2] + ".pdf"
    t = make_ticket(name=name, message=message, files=[pdf(file_name)])
    t.add_requester_reply(
        message=PAYLOADS[0] + "\nsegunda línea", files=[pdf(PAYLOADS[3] + ".pdf")]
    )
    return t


@pytest.fixture
def superuser_client(client, db):
    client.force_login(
        User.objects.create_superuser("root", "root@example.org", "clave-de-prueba-123")
    )
    return client


# --- through the public form -------------------------------------------------------------
@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_every_field_of_the_form_are_stored_as_text_and_shown_escaped(
    client, db, payload
):
    r = submit(
        client, name=payload, message=payload + "\notra línea", files=[pdf(payload + ".pdf")]
    )
    assert r.status_code == 302
    t = Ticket.objects.get()
    assert t.name == payload and t.message.startswith(payload)
    html = client.get(t.get_absolute_url()).content.decode()
    assert_inert(html)
    assert htmllib.escape(payload, quote=False) in html or htmllib.escape(payload) in html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_refused_form_echoes_what_was_typed_escaped(client, db, payload):
    r = submit(client, name=payload, email=payload, project_number=payload, message=payload)
    html = r.content.decode()
    assert r.status_code == 200
    assert_inert(html)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_look_up_and_forgotten_id_forms_echo_escaped(client, db, payload):
    assert_inert(client.post(LOOKUP, {"tracking_id": payload}).content.decode())
    assert_inert(client.get(LOOKUP, {"id": payload}).content.decode())
    assert_inert(client.post(FORGOTTEN, {"email": payload}).content.decode())


def test_the_ticket_page_keeps_line_breaks_and_escapes_everything_else(client, hostile):
    html = client.get(hostile.get_absolute_url()).content.decode()
    assert_inert(html)
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;<br>segunda línea" in html
    assert "&quot;&gt;&lt;svg onload=alert(1)&gt;" in html  # the name
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in html  # a file name


def test_links_in_a_message_are_not_made_clickable(client, db):
    t = make_ticket(message="Vea http://sitio-falso.example/login y javascript:alert(1)")
    html = client.get(t.get_absolute_url()).content.decode()
    assert "http://sitio-falso.example/login" in html
    assert 'href="http://sitio-falso.example' not in html
    assert 'href="javascript' not in html


def test_template_syntax_in_a_message_is_not_evaluated(client, db):
    t = make_ticket(message="{{ settings.SECRET_KEY }} {% debug %} {{ 7|add:7 }}")
    html = client.get(t.get_absolute_url()).content.decode()
    assert "{{ settings.SECRET_KEY }} {% debug %} {{ 7|add:7 }}" in html
    assert settings.SECRET_KEY not in html and ">14<" not in html


# --- admin -------------------------------------------------------------------------------------
def test_the_admin_queue_escapes_the_requesters_text(superuser_client, hostile):
    url = f"/{settings.ADMIN_URL}tickets/ticket/"
    r = superuser_client.get(url, {"estado": "todos"})
    assert r.status_code == 200
    html = r.content.decode()
    assert hostile.tracking_id in html
    assert_inert(html)
    # A search for a payload is echoed escaped too.
    assert_inert(superuser_client.get(url, {"q": PAYLOADS[0]}).content.decode())


def test_the_admin_ticket_page_escapes_the_requesters_text(superuser_client, hostile):
    r = superuser_client.get(f"/{settings.ADMIN_URL}tickets/ticket/{hostile.pk}/change/")
    assert r.status_code == 200
    html = r.content.decode()
    assert hostile.tracking_id in html
    assert_inert(html)
    assert "&lt;script&gt;" in html


def test_the_admin_attachment_and_reply_lists_escape_file_names(superuser_client, hostile):
    for model in ("attachment", "reply", "outgoingemail"):
        r = superuser_client.get(f"/{settings.ADMIN_URL}tickets/{model}/")
        if r.status_code == 404:  # not registered in this admin
            continue
        assert r.status_code in (200, 302)
        assert_inert(r.content.decode())


# --- e-mails --------------------------------------------------------------------------------------
def test_every_email_html_part_escapes_the_requesters_text(hostile, agent):
    hostile.add_agent_reply(user=agent, message="Respuesta que cita: " + PAYLOADS[0])
    mails = list(OutgoingEmail.objects.filter(ticket=hostile))
    assert {m.kind for m in mails} >= {
        "ticket_created",
        "new_ticket_agents",
        "requester_replied",
        "agent_replied",
    }
    for mail in mails:
        assert_inert(mail.body_html)
        assert "\n" not in mail.subject and "\r" not in mail.subject
    agents = OutgoingEmail.objects.get(kind="new_ticket_agents")
    assert "&lt;img src=x onerror=alert(1)&gt;" in agents.body_html
    # The text part carries the text as written: it is never rendered as HTML.
    assert PAYLOADS[0] in agents.body_text


def test_the_forgotten_id_email_escapes_too(client, hostile):
    client.post(FORGOTTEN, {"email": hostile.email})
    mail = OutgoingEmail.objects.get(kind="forgotten_ids")
    assert_inert(mail.body_html)


# --- header injection and address lists -------------------------------------------------------------
@pytest.mark.parametrize(
    "email",
    [
        "alicia@x.cl\r\nBcc: todos@x.cl",
        "alicia@x.cl\nBcc: todos@x.cl",
        "alicia@x.cl, otro@x.cl",
        "alicia@x.cl; otro@x.cl",
        "Alicia <alicia@x.cl>",
        "alicia@x.cl%0ABcc:todos@x.cl",
    ],
)
def test_an_email_with_a_line_break_or_several_addresses_is_refused(client, db, email):
    r = submit(client, email=email)
    assert r.status_code == 200
    assert "Introduzca una dirección de correo electrónico válida." in r.content.decode()
    assert not Ticket.objects.exists() and not OutgoingEmail.objects.exists()
    r = client.post(FORGOTTEN, {"email": email})
    assert not OutgoingEmail.objects.exists()


def test_a_quoted_address_with_a_comma_is_never_sent_as_two(client, db):
    # Valid e-mail (RFC 5322 quoted local part), so the form takes it; the outbox
    # keeps the message as failed rather than hand a comma to the mail server.
    assert submit(client, email='"a,b"@x.cl').status_code == 302
    mail = OutgoingEmail.objects.get(kind="ticket_created")
    assert mail.state == OutgoingEmail.State.FAILED
    assert "Destinatario inválido" in mail.last_error


def test_a_plain_address_is_accepted(client, db):
    assert submit(client, email="Alicia.Rojas+sigec@Desarrollo-Social.gob.cl").status_code == 302
    assert (
        OutgoingEmail.objects.get(kind="ticket_created").to
        == "alicia.rojas+sigec@desarrollo-social.gob.cl"
    )


def test_a_line_break_in_the_name_cannot_reach_an_email_header(client, db):
    assert submit(client, name="Alicia\r\nBcc: todos@x.cl\r\nSubject: hola").status_code == 302
    t = Ticket.objects.get()
    assert t.name == "Alicia Bcc: todos@x.cl Subject: hola"
    for mail in OutgoingEmail.objects.all():
        assert "\r" not in mail.subject and "\n" not in mail.subject and "\n" not in mail.to


def test_a_first_line_with_control_characters_makes_a_one_line_subject(db):
    t = make_ticket(message="Asunto\x0bcon\x0ccontrol\u2028y más\nsegunda línea")
    for mail in OutgoingEmail.objects.filter(ticket=t):
        assert not any(c in mail.subject for c in "\r\n\x0b\x0c\u2028")


def test_pdf_payload_bytes_never_show_on_the_page(client, db):
    t = make_ticket(files=[SimpleUploadedFile("informe.pdf", PDF + b"<script>alert(1)</script>")])
    assert "<script>alert(1)</script>" not in client.get(t.get_absolute_url()).content.decode()
