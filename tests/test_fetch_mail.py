"""``fetch_mail`` against a real IMAP server (dovecot, started by tests/imap.py)."""

import io
import threading
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from tests.conftest import make_ticket
from tests.smtp import free_port
from tickets import mailbox
from tickets.models import InboundEmail, OutgoingEmail, Reply, Ticket

MAIL = Path(__file__).parent / "mail"
TRACKING = "1N7-XQE-RW26"
DESK = "mesaayuda@example.gob.cl"
OUR = "<177334.9172.4431@mesaayuda.example.gob.cl>"


@pytest.fixture(autouse=True)
def desk(settings):
    settings.INBOUND_EMAIL_ADDRESS = DESK
    settings.DEFAULT_FROM_EMAIL = f"Mesa de Ayuda SIGEC <{DESK}>"


def answered_ticket(agent):
    ticket = make_ticket()
    Ticket.objects.filter(pk=ticket.pk).update(tracking_id=TRACKING)
    ticket.refresh_from_db()
    ticket.add_agent_reply(user=agent, message="Revisamos su proyecto.")
    OutgoingEmail.objects.filter(kind="agent_replied").update(message_id=OUR)
    return ticket


def fetch() -> str:
    out = io.StringIO()
    call_command("fetch_mail", stdout=out)
    return out.getvalue().strip()


def eml(name):
    return (MAIL / name).read_bytes()


def numbered(i: int) -> bytes:
    return (
        f"From: alicia@desarrollosocial.gob.cl\r\nTo: {DESK}\r\n"
        f"Subject: Re: [#{TRACKING}] Nueva respuesta\r\n"
        f"Message-ID: <respuesta-{i}@desarrollosocial.gob.cl>\r\n\r\nRespuesta {i}\r\n"
    ).encode()


@pytest.mark.django_db
def test_fetch_mail_applies_the_replies_and_moves_what_it_read(imap_server, agent):
    ticket = answered_ticket(agent)
    imap_server.deliver(eml("gmail_reply.eml"), eml("out_of_office.eml"), eml("other_sender.eml"))
    assert fetch() == "read 3: 1 applied, 1 unmatched, 1 ignored, 0 held, 0 duplicate"
    reply = ticket.replies.get(kind=Reply.Kind.REQUESTER)
    assert reply.message.startswith("Hola, ya pude ingresar la rendición.")
    assert reply.channel == Reply.Channel.EMAIL
    assert set(InboundEmail.objects.values_list("source", flat=True)) == {"imap"}
    assert imap_server.count("INBOX") == 0
    assert imap_server.count("Procesados") == 3
    # Nothing is left to read, so a second run does nothing.
    assert fetch() == "read 0: 0 applied, 0 unmatched, 0 ignored, 0 held, 0 duplicate"


@pytest.mark.django_db
def test_without_a_done_folder_read_messages_are_flagged_seen_and_not_read_again(
    imap_server, agent, settings
):
    settings.INBOUND_IMAP_DONE_FOLDER = ""
    answered_ticket(agent)
    imap_server.deliver(eml("apple_mail_reply.eml"))
    assert fetch().startswith("read 1: 1 applied")
    assert imap_server.count("INBOX") == 1
    assert fetch().startswith("read 0:")


@pytest.mark.django_db
def test_a_message_another_fetcher_already_stored_is_not_applied_again(imap_server, agent):
    ticket = answered_ticket(agent)
    imap_server.deliver(numbered(1))
    # As if a fetcher stored it and died before moving it.
    mailbox_url = imap_server.url
    from tickets import inbound

    inbound.receive(numbered(1), source="imap")
    assert fetch() == "read 1: 0 applied, 0 unmatched, 0 ignored, 0 held, 1 duplicate"
    assert ticket.replies.filter(kind=Reply.Kind.REQUESTER).count() == 1
    assert imap_server.count("INBOX") == 0
    assert mailbox_url.startswith("imap://")


@pytest.mark.django_db
def test_a_message_over_the_size_cap_is_held_from_its_headers(imap_server, agent, settings):
    ticket = answered_ticket(agent)
    settings.INBOUND_MAX_SIZE = 2048
    imap_server.deliver(eml("gmail_reply.eml"), numbered(1))
    assert fetch() == "read 2: 1 applied, 0 unmatched, 0 ignored, 1 held, 0 duplicate"
    held = InboundEmail.objects.get(state=InboundEmail.State.HELD)
    assert held.subject == "Re: [#1N7-XQE-RW26] Nueva respuesta a su ticket"
    assert held.raw is None and held.size > 2048
    assert ticket.replies.filter(kind=Reply.Kind.REQUESTER).count() == 1


@pytest.mark.django_db
def test_an_unreachable_mailbox_is_reported_and_nothing_is_stored(settings):
    settings.INBOUND_IMAP_URL = f"imap://mesaayuda:x@127.0.0.1:{free_port()}/INBOX"
    with pytest.raises(CommandError, match="mailbox unreachable"):
        fetch()
    assert not InboundEmail.objects.exists()


@pytest.mark.django_db
def test_a_wrong_password_is_reported(imap_server, settings):
    settings.INBOUND_IMAP_URL = imap_server.url.replace("clave-imap-de-prueba", "otra")
    with pytest.raises(CommandError, match="mailbox unreachable"):
        fetch()


@pytest.mark.django_db
def test_without_an_imap_url_the_command_says_what_to_set(settings):
    settings.INBOUND_IMAP_URL = ""
    with pytest.raises(CommandError, match="INBOUND_IMAP_URL"):
        fetch()


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL's concurrent writers (SQLite serialises them): run with DATABASE_URL=postgres://…",
)


# See tests/test_concurrency.py for why transaction=True and serialized_rollback=True.
@needs_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_fetchers_at_once_apply_every_message_exactly_once(imap_server, agent, settings):
    settings.INBOUND_MAX_PER_SENDER_HOUR = 100  # forty replies in a second are not a loop here
    ticket = answered_ticket(agent)
    imap_server.deliver(*(numbered(i) for i in range(40)))
    start = threading.Barrier(2)
    runs, errors = [], []

    def run():
        try:
            start.wait(timeout=30)
            runs.append(mailbox.fetch(imap_server.url))
        except Exception as exc:  # collected, so one failure does not hang the other
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    messages = sorted(
        ticket.replies.filter(kind=Reply.Kind.REQUESTER).values_list("message", flat=True)
    )
    assert messages == sorted(f"Respuesta {i}" for i in range(40))
    assert sum(r.counts.get("applied", 0) for r in runs) == 40
    assert InboundEmail.objects.count() == 40
    assert imap_server.count("INBOX") == 0
