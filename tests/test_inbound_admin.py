"""Correo entrante in admin: the list, the message page, and the two actions on held mail."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import make_ticket
from tickets.models import Category, InboundEmail, OutgoingEmail, Region, Reply, Ticket

pytestmark = pytest.mark.django_db
MAIL = Path(__file__).parent / "mail"
CHANGELIST = "admin:tickets_inboundemail_changelist"
TRACKING = "1N7-XQE-RW26"
State = InboundEmail.State


@pytest.fixture(autouse=True)
def desk(settings):
    settings.INBOUND_EMAIL_ADDRESS = "mesaayuda@example.gob.cl"


@pytest.fixture
def ticket(db):
    t = make_ticket()
    Ticket.objects.filter(pk=t.pk).update(tracking_id=TRACKING)
    t.refresh_from_db()
    return t


def receive(raw):
    raw = (MAIL / raw).read_bytes() if isinstance(raw, str) else raw
    call_command("receive_mail", stdin=io.BytesIO(raw), stdout=io.StringIO())
    return InboundEmail.objects.order_by("-pk").first()


def unmatched(i, sender="nuevo@desarrollosocial.gob.cl"):
    return receive(
        f"From: Pedro Soto <{sender}>\r\nSubject: Consulta {i}\r\n"
        f"Message-ID: <consulta-{i}@desarrollosocial.gob.cl>\r\n\r\n"
        f"No puedo ver el proyecto {i}.\r\n".encode()
    )


def act(client, action, rows, **data):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [r.pk for r in rows], "index": 0, **data},
        follow=True,
    )


def test_agents_see_the_list_with_how_many_wait(client, agent, ticket):
    receive("other_sender.eml")
    receive("out_of_office.eml")
    client.force_login(agent)
    page = client.get(reverse(CHANGELIST))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Correo entrante · 1 sin asociar" in text
    assert "jefe.unidad@desarrollosocial.gob.cl" in text
    assert "El remitente no es el solicitante del ticket." in text


def test_without_held_mail_the_title_is_plain(client, agent):
    client.force_login(agent)
    assert "sin asociar" not in client.get(reverse(CHANGELIST)).content.decode()


def test_the_list_does_not_query_once_per_row(admin_client, django_assert_max_num_queries, ticket):
    for i in range(3):
        unmatched(i)
    with django_assert_max_num_queries(12) as few:
        admin_client.get(reverse(CHANGELIST))
    for i in range(3, 30):
        unmatched(i, sender=f"persona{i}@desarrollosocial.gob.cl")
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(reverse(CHANGELIST))


def test_nobody_adds_or_deletes_inbound_mail(admin_client):
    assert admin_client.get(reverse("admin:tickets_inboundemail_add")).status_code == 403


def test_an_agent_attaches_a_colleagues_mail_to_the_ticket(client, agent, ticket):
    row = receive("other_sender.eml")
    client.force_login(agent)
    page = act(client, "attach", [row], ticket=TRACKING.lower().replace("-", ""))
    assert f"1 correo agregado al ticket {ticket}." in page.content.decode()
    reply = ticket.replies.get(kind=Reply.Kind.REQUESTER)
    assert reply.author_name == "Jorge Fuentes"
    assert reply.message.startswith("Por favor cierren este ticket")
    assert reply.channel == Reply.Channel.EMAIL
    row.refresh_from_db()
    assert (row.state, row.ticket, row.handled_by) == (State.APPLIED, ticket, agent)
    # A second click finds nothing waiting: never applied twice.
    act(client, "attach", [row], ticket=TRACKING)
    assert ticket.replies.filter(kind=Reply.Kind.REQUESTER).count() == 1


def test_attaching_needs_an_existing_ticket(client, agent, ticket):
    row = receive("other_sender.eml")
    client.force_login(agent)
    page = act(client, "attach", [row], ticket="ZZZ-ZZZ-ZZZZ")
    assert "Escriba en «Ticket» el ID de seguimiento" in page.content.decode()
    row.refresh_from_db()
    assert row.state == State.UNMATCHED
    assert not ticket.replies.filter(kind=Reply.Kind.REQUESTER).exists()


def test_attaching_by_ticket_number_works_too(client, agent, ticket):
    row = receive("other_sender.eml")
    client.force_login(agent)
    act(client, "attach", [row], ticket=str(ticket.number))
    assert ticket.replies.filter(kind=Reply.Kind.REQUESTER).count() == 1


def test_an_agent_opens_a_new_ticket_from_mail_that_matched_none(client, agent):
    row = unmatched(1)
    client.force_login(agent)
    page = act(
        client,
        "open_new_ticket",
        [row],
        category=Category.objects.get(name="Error de sistema").pk,
        region=Region.objects.get(code="NB").pk,
        project_number="29928",
    )
    new = Ticket.objects.get(email="nuevo@desarrollosocial.gob.cl")
    assert f"Tickets abiertos: {new}." in page.content.decode()
    assert new.name == "Pedro Soto"
    assert new.message == "No puedo ver el proyecto 1."
    assert new.region.code == "NB"
    # The sender now has a tracking ID, by mail.
    assert OutgoingEmail.objects.filter(kind="ticket_created", to=new.email).exists()
    row.refresh_from_db()
    assert (row.state, row.ticket) == (State.APPLIED, new)


def test_opening_a_ticket_needs_its_category_region_and_project(client, agent):
    row = unmatched(1)
    client.force_login(agent)
    page = act(client, "open_new_ticket", [row], project_number="no sé")
    assert (
        "Para abrir un ticket nuevo: elija la categoría, elija la región, escriba el número de proyecto."
        in page.content.decode()
    )
    assert not Ticket.objects.exists()


def test_applied_or_ignored_mail_cannot_be_attached_again(client, agent, ticket):
    row = receive("out_of_office.eml")
    client.force_login(agent)
    page = act(client, "attach", [row], ticket=TRACKING)
    assert "Ninguno de los correos elegidos espera asociarse" in page.content.decode()
    assert not ticket.replies.exists()


def test_an_agent_without_change_permission_has_no_actions(client, ticket, django_user_model):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("visor", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_inboundemail"))
    row = receive("other_sender.eml")
    client.force_login(viewer)
    act(client, "attach", [row], ticket=TRACKING)
    row.refresh_from_db()
    assert row.state == State.UNMATCHED
