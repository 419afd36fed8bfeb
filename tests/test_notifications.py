"""Who is told what, as the SMTP server receives it; and what can never be sent."""

import io
import re
import uuid

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.test.signals import template_rendered

from tests.conftest import make_ticket, submission_data
from tickets import emails, outbox
from tickets.models import Category, OutgoingEmail, Region, Ticket

pytestmark = pytest.mark.django_db
State = OutgoingEmail.State
ALICIA = "alicia@desarrollosocial.gob.cl"
HELPDESK = "mesa@desarrollosocial.gob.cl"
SITE = "https://mesadeayuda.example.cl"
MESSAGE = "Texto libre del solicitante: visite http://sitio-malicioso.example y gane un premio."


@pytest.fixture(autouse=True)
def _site(settings):
    settings.PUBLIC_SITE_URL = SITE
    settings.HELPDESK_NOTIFY_EMAIL = HELPDESK


def send():
    call_command("send_queued_mail", stdout=io.StringIO())


def submit(client, **overrides):
    return client.post("/ticket/nuevo/", submission_data(**overrides))


def start_fresh():
    """Forget the mail a ticket's creation queued, to look only at what follows."""
    OutgoingEmail.objects.all().delete()


# --- the confirmation --------------------------------------------------------------------------
def test_the_confirmation_reaches_the_requester_with_the_tracking_id_and_the_link(
    client, smtp_server
):
    assert submit(client, message=MESSAGE).status_code == 302
    send()
    ticket = Ticket.objects.get()
    [m] = smtp_server.inbox.to(ALICIA)
    assert m.rcpt_tos == [ALICIA]
    assert m.message["To"] == ALICIA
    assert m.subject == f"[#{ticket.tracking_id}] Ticket recibido"
    link = f"{SITE}/ticket/{ticket.tracking_id}/"
    assert link in m.text
    assert f'href="{link}"' in m.html
    assert '<html lang="es">' in m.html


def test_the_confirmation_shows_category_region_and_project_number_but_not_the_message(
    client, smtp_server
):
    submit(client, message=MESSAGE, project_number="31415")
    send()
    [m] = smtp_server.inbox.to(ALICIA)
    for body in (m.text, m.html):
        assert "Error de sistema" in body
        assert "Arica y Parinacota" in body
        assert "31415" in body
        # The form must not be a way to mail arbitrary text to a third party.
        assert "sitio-malicioso" not in body


def test_the_new_ticket_notice_carries_the_message_to_the_help_desk_not_the_requester(
    client, smtp_server
):
    submit(client, message=MESSAGE)
    send()
    [notice] = smtp_server.inbox.to(HELPDESK)
    assert notice.rcpt_tos == [HELPDESK]
    assert "sitio-malicioso" in notice.text
    assert all(ALICIA not in m.rcpt_tos for m in smtp_server.inbox.to(HELPDESK))


def test_the_new_ticket_notice_goes_to_the_agents_routed_for_the_category(
    client, smtp_server, agent, category
):
    category.agents.add(agent)
    submit(client)
    send()
    assert len(smtp_server.inbox.to(agent.email)) == 1
    assert smtp_server.inbox.to(HELPDESK) == []


def test_who_a_category_notifies_follows_each_change_at_once(client, smtp_server, agent, category):
    # The routing is kept per process (reference_choices): adding or removing an agent
    # must show at the next ticket, not a minute later.
    submit(client)
    category.agents.add(agent)
    submit(client, submission_token=str(uuid.uuid4()))
    category.agents.remove(agent)
    submit(client, submission_token=str(uuid.uuid4()))
    send()
    notices = [m for m in smtp_server.messages if "Nuevo ticket" in m.subject]
    assert [m.rcpt_tos for m in notices] == [[HELPDESK], [agent.email], [HELPDESK]]


# --- a requester's reply -------------------------------------------------------------------------
def test_a_requester_reply_notifies_the_assignee(ticket, agent, smtp_server):
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent)
    ticket.refresh_from_db()
    start_fresh()
    ticket.add_requester_reply(message="Adjunto el comprobante que pidieron.")
    send()
    assert [m.rcpt_tos for m in smtp_server.messages] == [[agent.email]]
    [m] = smtp_server.messages
    assert (
        m.subject
        == f"[#{ticket.tracking_id}] El solicitante respondió el ticket n.º {ticket.number}"
    )
    assert "Adjunto el comprobante que pidieron." in m.text


def test_a_requester_reply_to_a_ticket_whose_assignee_left_notifies_the_help_desk(
    ticket, agent, smtp_server
):
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent)
    agent.is_active = False
    agent.save()
    ticket.refresh_from_db()
    start_fresh()
    ticket.add_requester_reply(message="¿Alguna novedad?")
    send()
    assert [m.rcpt_tos for m in smtp_server.messages] == [[HELPDESK]]


def test_a_requester_reply_without_assignee_notifies_the_routed_agents(ticket, agent, smtp_server):
    ticket.category.agents.add(agent)
    start_fresh()
    ticket.add_requester_reply(message="¿Alguna novedad?")
    send()
    assert [m.rcpt_tos for m in smtp_server.messages] == [[agent.email]]


def test_a_requester_reply_with_nobody_assigned_or_routed_notifies_the_help_desk(
    ticket, smtp_server
):
    start_fresh()
    ticket.add_requester_reply(message="¿Alguna novedad?")
    send()
    assert [m.rcpt_tos for m in smtp_server.messages] == [[HELPDESK]]


# --- an agent's reply ------------------------------------------------------------------------------
def test_an_agent_public_reply_emails_the_requester_its_text_and_the_link(
    ticket, agent, smtp_server
):
    start_fresh()
    ticket.add_agent_reply(user=agent, message="Ya corregimos el error; intente de nuevo.")
    send()
    [m] = smtp_server.messages
    assert m.rcpt_tos == [ALICIA]
    assert m.subject == f"[#{ticket.tracking_id}] Nueva respuesta a su ticket"
    for body in (m.text, m.html):
        assert "Ya corregimos el error; intente de nuevo." in body
        assert f"{SITE}/ticket/{ticket.tracking_id}/" in body


def test_an_internal_note_sends_nothing(ticket, agent, smtp_server):
    start_fresh()
    ticket.add_agent_reply(user=agent, message="Nota interna: revisar con TI.", kind="internal")
    assert not OutgoingEmail.objects.exists()
    send()
    assert smtp_server.messages == []


# --- header injection ------------------------------------------------------------------------------
SMUGGLED = [
    "alicia@desarrollosocial.gob.cl\r\nBcc: intruso@example.com",
    "alicia@desarrollosocial.gob.cl\nCc: intruso@example.com",
    "alicia@desarrollosocial.gob.cl, intruso@example.com",
    "alicia@desarrollosocial.gob.cl;intruso@example.com",
    "Alicia <alicia@desarrollosocial.gob.cl>, intruso@example.com",
]


def assert_nobody_else_got_mail(server):
    for m in server.messages:
        assert all("intruso" not in r for r in m.rcpt_tos)
        assert all("intruso" not in str(v) for v in m.message.values())
        assert m.message["Bcc"] is None and m.message["Cc"] is None


@pytest.mark.parametrize("email", SMUGGLED)
def test_the_form_refuses_an_email_field_that_smuggles_a_header_or_second_address(
    client, smtp_server, email
):
    r = submit(client, email=email)
    assert r.status_code == 200
    assert r.context["form"].errors["email"]
    assert not Ticket.objects.exists() and not OutgoingEmail.objects.exists()


def test_the_form_accepts_a_plain_address_and_mails_only_it(client, smtp_server):
    assert submit(client, email="Alicia@DesarrolloSocial.gob.cl").status_code == 302
    send()
    assert [m.rcpt_tos for m in smtp_server.inbox.to(ALICIA)] == [[ALICIA]]


def test_a_line_break_in_the_name_adds_no_header_or_recipient(client, smtp_server):
    assert submit(client, name="Alicia Rojas\r\nBcc: intruso@example.com").status_code == 302
    send()
    assert len(smtp_server.messages) == 2
    assert_nobody_else_got_mail(smtp_server)


def test_the_name_is_never_put_in_a_header_even_unfiltered(smtp_server, db):
    # Past the form (an import, the shell): the name still only reaches bodies.
    make_ticket(name="Alicia\r\nBcc: intruso@example.com\r\nSubject: premio")
    send()
    assert len(smtp_server.messages) == 2
    assert_nobody_else_got_mail(smtp_server)
    assert all("premio" not in m.subject for m in smtp_server.messages)


@pytest.mark.parametrize("email", SMUGGLED)
def test_a_smuggled_address_past_the_form_is_queued_as_failed_and_never_sent(
    smtp_server, db, email
):
    ticket = make_ticket(email=email)
    confirmation = OutgoingEmail.objects.get(ticket=ticket, kind="ticket_created")
    assert confirmation.state == State.FAILED
    assert confirmation.last_error.startswith("Destinatario inválido")
    send()
    assert [m.rcpt_tos for m in smtp_server.messages] == [[HELPDESK]]  # the agents' notice only
    assert_nobody_else_got_mail(smtp_server)


def test_a_plain_address_past_the_form_is_queued_to_be_sent(db):
    ticket = make_ticket(email=ALICIA)
    assert OutgoingEmail.objects.get(ticket=ticket, kind="ticket_created").state == State.QUEUED


@pytest.mark.parametrize(
    "to",
    SMUGGLED + ["", "sin-arroba", "a@b@desarrollosocial.gob.cl", '"a,b"@desarrollosocial.gob.cl'],
)
def test_a_row_with_a_bad_recipient_is_marked_failed_by_the_sender(smtp_server, to):
    # A row written some other way than emails._queue (a data fix, an old row).
    msg = OutgoingEmail.objects.create(kind="test", to=to, subject="Prueba", body_text="Hola")
    OutgoingEmail.objects.create(kind="test", to=ALICIA, subject="Prueba", body_text="Hola")
    send()
    msg.refresh_from_db()
    assert (msg.state, msg.attempts) == (State.FAILED, 1)
    assert msg.last_error.startswith("Destinatario inválido")
    assert [m.rcpt_tos for m in smtp_server.messages] == [[ALICIA]]


def test_a_line_break_in_a_stored_subject_never_becomes_a_header(smtp_server):
    msg = OutgoingEmail.objects.create(
        kind="test", to=ALICIA, subject="Hola\r\nBcc: intruso@example.com", body_text="Hola"
    )
    send()
    msg.refresh_from_db()
    assert msg.state == State.QUEUED and msg.last_error.startswith("BadHeaderError")
    assert smtp_server.messages == []


def test_a_line_break_in_a_category_name_is_folded_out_of_the_subject(smtp_server):
    category = Category.objects.exclude(name="Error de sistema").first()
    category.name = "Otra categoría\r\nBcc: intruso@example.com"
    category.save()
    make_ticket(category=category)
    notice = OutgoingEmail.objects.get(kind="new_ticket_agents")
    assert "(Otra categoría Bcc: intruso@example.com)" in notice.subject
    send()
    assert sorted(r for m in smtp_server.messages for r in m.rcpt_tos) == [ALICIA, HELPDESK]
    assert all(m.message["Bcc"] is None for m in smtp_server.messages)


# --- right after commit --------------------------------------------------------------------------
@pytest.fixture
def send_on_commit(settings):
    settings.EMAIL_SEND_ON_COMMIT = True
    settings.OUTBOX_SEND_INLINE = True  # the thread's work, run in the test's own thread


def test_a_submission_sends_its_mail_right_after_commit_without_cron(
    client, send_on_commit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert submit(client).status_code == 302
    assert len(callbacks) == 1  # the confirmation and the agents' notice, handed over together
    assert sorted(m.to[0] for m in mail.outbox) == [ALICIA, HELPDESK]
    assert set(OutgoingEmail.objects.values_list("state", flat=True)) == {State.SENT}


def test_without_send_on_commit_the_mail_waits_for_cron(
    client, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_SEND_ON_COMMIT = False
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        submit(client)
    assert callbacks == [] and mail.outbox == []
    assert set(OutgoingEmail.objects.values_list("state", flat=True)) == {State.QUEUED}


def test_a_change_that_rolls_back_queues_and_sends_nothing(
    send_on_commit, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        make_ticket()
        raise RuntimeError("the change failed after its mail was written")
    assert callbacks == [] and mail.outbox == []
    assert not OutgoingEmail.objects.exists()


def test_with_the_server_down_a_submission_still_succeeds_and_its_mail_waits(
    client, smtp_down, send_on_commit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert submit(client).status_code == 302
    assert set(OutgoingEmail.objects.values_list("state", "attempts")) == {(State.QUEUED, 0)}
    smtp_down.start()
    send()
    assert len(smtp_down.messages) == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_background_thread_sends_only_the_rows_it_was_given(smtp_server):
    # One thread writes while this one waits in join(), so even the in-memory
    # SQLite test database (shared cache, no concurrent writers) copes.
    mine = OutgoingEmail.objects.create(kind="test", to=ALICIA, subject="Prueba", body_text="Hola")
    other = OutgoingEmail.objects.create(
        kind="test", to=HELPDESK, subject="Prueba", body_text="Hola"
    )
    outbox.send_soon([mine.pk]).join(10)
    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.state, other.state) == (State.SENT, State.QUEUED)
    assert [m.rcpt_tos for m in smtp_server.messages] == [[ALICIA]]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rows_handed_to_the_background_thread_together_are_sent_with_one_claim(
    smtp_server, monkeypatch
):
    rows = [
        OutgoingEmail.objects.create(kind="test", to=to, subject="Prueba", body_text="Hola")
        for to in (ALICIA, HELPDESK, "bea@desarrollosocial.gob.cl")
    ]
    claims = []
    claim = outbox.claim
    monkeypatch.setattr(outbox, "claim", lambda *a, **kw: claims.append(1) or claim(*a, **kw))
    handed = [outbox.send_soon([row.pk]) for row in rows]  # three submissions at once
    assert all(batch.join(10) for batch in handed)
    assert set(OutgoingEmail.objects.values_list("state", flat=True)) == {State.SENT}
    assert len(smtp_server.messages) == 3
    assert claims == [1]


def assert_reads_as_rendered_alone(ticket):
    queued = OutgoingEmail.objects.filter(ticket=ticket).order_by("kind")
    assert [m.kind for m in queued] == ["new_ticket_agents", "ticket_created"]
    for m in queued:
        (full,) = emails._render(
            m.kind,
            [m.to],
            ticket=ticket,
            language=ticket.language if m.kind == "ticket_created" else "es",
        )
        assert (m.subject, m.body_text, m.body_html) == (
            full.subject,
            full.body_text,
            full.body_html,
        )


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_new_tickets_mail_rendered_before_its_number_reads_as_if_rendered_after(
    db, settings, language
):
    # Ticket.open renders these before it takes the number (markers, filled in after).
    settings.INBOUND_EMAIL_ADDRESS = "respuestas@desarrollosocial.gob.cl"
    make_ticket()  # so that the number and the id are not both 1
    ticket = make_ticket(language=language)
    assert_reads_as_rendered_alone(ticket)
    queued = OutgoingEmail.objects.filter(ticket=ticket).order_by("kind")
    for m in queued:
        assert not re.search(r"mark[0-9a-f]{24}", m.subject + m.body_text + m.body_html)
    agents = queued[0]
    assert f"n.º {ticket.number} " in agents.subject
    assert f"/tickets/ticket/{ticket.pk}/change/" in agents.body_text


@pytest.mark.parametrize("language", ["es", "en"])
def test_tickets_of_one_category_and_region_get_their_own_values_in_their_mail(
    db, settings, language
):
    # The two messages are rendered once per language, category and region, then filled in.
    settings.INBOUND_EMAIL_ADDRESS = "respuestas@desarrollosocial.gob.cl"
    first = make_ticket(language=language)
    second = make_ticket(
        language=language,
        name='  Ñuño <b>"O\'Higgins"</b>  & Cía ',
        email="nuno@peñalolén.cl",
        project_number=7,
        message="<script>alert(1)</script>\nsegunda línea & más\n\nfin",
    )
    for ticket in (first, second):
        assert_reads_as_rendered_alone(ticket)
    notice = OutgoingEmail.objects.get(ticket=second, kind="new_ticket_agents")
    assert "&lt;script&gt;" in notice.body_html and "<script>" not in notice.body_html
    assert "xn--" in notice.body_text  # staff see the look-alike domain's ASCII form


def test_the_next_ticket_of_a_category_and_region_renders_no_template(db):
    make_ticket()
    rendered = []

    def seen(sender, template, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(seen)
    try:
        make_ticket(name="Otra Persona", email="otra@desarrollosocial.gob.cl")
        assert not [name for name in rendered if name.startswith("emails/")]
        make_ticket(region=Region.objects.get(code="BI"))
        assert [name for name in rendered if name.startswith("emails/")]
    finally:
        template_rendered.disconnect(seen)


def test_a_template_showing_more_than_a_value_gets_its_messages_rendered_in_full(
    db, monkeypatch, caplog
):
    # As if a template filtered a value: the proof fails, the messages stay right.
    monkeypatch.setattr(emails, "_shown", lambda name, value, part: value.upper())
    ticket = make_ticket(message="Línea uno <b>\ny dos")
    assert_reads_as_rendered_alone(ticket)
    assert "rendered in full" in caplog.text


def test_a_message_in_english_says_so_to_the_mail_client(db):
    ticket = make_ticket(language="en")
    assert (
        '<html lang="en">'
        in OutgoingEmail.objects.get(ticket=ticket, kind="ticket_created").body_html
    )
