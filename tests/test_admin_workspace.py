"""Issue 14's workspace: the queue's columns and quick views, landing, callers, merge, print, wording."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import make_ticket, pdf, submission_data
from tickets.admin import deadlines
from tickets.models import MergeError, OutgoingEmail, Region, Reply, Status, Ticket, TicketEvent
from tickets.models.ticket import Channel

QUEUE = reverse("admin:tickets_ticket_changelist")
ADD = reverse("admin:tickets_ticket_add")
MERGE = reverse("admin:tickets_ticket_merge")
SANTIAGO = ZoneInfo("America/Santiago")


# --- the queue ---------------------------------------------------------------------------------
def test_the_queue_is_titled_as_a_queue_with_a_status_chip(agent_client, ticket):
    html = agent_client.get(QUEUE).content.decode()
    assert "Cola de tickets" in html
    assert "Seleccione ticket a modificar" not in html
    assert '<span class="status-chip status-new">Nuevo</span>' in html


def test_the_quick_views_are_one_click_each_and_mark_the_current_one(agent_client, agent, ticket):
    mine = make_ticket()
    mine.change(user=agent, assignee=agent)
    html = agent_client.get(QUEUE, {"asignado": "yo"}).content.decode()
    for label in ["Mis tickets", "Sin asignar", "Vencidos", "Esperando al solicitante"]:
        assert label in html
    assert 'href="/admin/tickets/ticket/?asignado=yo" aria-current="page">Mis tickets' in html
    assert 'aria-current="page">Sin asignar' not in html
    answered = agent_client.get(QUEUE, {"estado": "answered"}).context["cl"].result_list
    assert list(answered) == []


@pytest.mark.parametrize(
    "now, due, expected, overdue",
    [
        # Thursday 10:00 → Thursday 13:00: three working hours.
        ((2026, 3, 5, 10), (2026, 3, 5, 13), "vence en 3 h hábiles", False),
        # Friday 16:00 → Monday 10:00: 1 h Friday + 1 h Monday.
        ((2026, 3, 6, 16), (2026, 3, 9, 10), "vence en 2 h hábiles", False),
        # Due Monday 9:00, now Wednesday 9:00: two working days late.
        ((2026, 3, 11, 9), (2026, 3, 9, 9), "vencido hace 2 días hábiles", True),
    ],
)
def test_deadlines_read_in_business_time(ticket, now, due, expected, overdue):
    ticket.staff_due_at = datetime(*due, tzinfo=SANTIAGO)
    text, late = deadlines.label(ticket, datetime(*now, tzinfo=SANTIAGO), frozenset())
    assert (text, late) == (expected, overdue)


def test_a_page_of_late_tickets_reads_as_each_one_alone_whatever_its_region(db):
    # Tarapacá keeps 10 August (San Lorenzo), Ñuble 20 August; one ticket is a year late.
    regions = Region.objects.filter(code__in=["TA", "NB", "RM"])
    now = datetime(2026, 9, 1, 11, tzinfo=SANTIAGO)
    page = []
    for region in regions:
        for due in [(2026, 8, 31, 9), (2026, 8, 3, 15), (2026, 6, 1, 10), (2025, 8, 1, 9)]:
            t = make_ticket(region=region)
            t.staff_due_at = datetime(*due, tzinfo=SANTIAGO)
            page.append(t)
    alone = [deadlines.label(t, now, frozenset()) for t in page]
    deadlines.annotate(page, now)
    assert [(t.deadline_text, t.deadline_overdue) for t in page] == alone
    assert len({text for text, _late in alone}) > 4  # the regions' holidays tell them apart


def test_the_queue_shows_the_deadline_in_business_hours_and_marks_overdue_rows(agent_client):
    with time_machine.travel(datetime(2026, 3, 5, 10, tzinfo=SANTIAGO), tick=False):
        fresh = make_ticket()  # 16 working hours: due Monday 10:00
        html = agent_client.get(QUEUE).content.decode()
        assert "vence en 2 días hábiles" in html
        assert 'class="overdue"' not in html
    with time_machine.travel(datetime(2026, 3, 11, 10, tzinfo=SANTIAGO), tick=False):
        html = agent_client.get(QUEUE).content.decode()
        assert "vencido hace 2 días hábiles" in html
        assert 'class="overdue"' in html
    assert fresh.staff_due_at is not None


# --- landing ------------------------------------------------------------------------------------
def test_staff_land_on_the_queue_after_signing_in(client, agent):
    r = client.get(reverse("admin:login"))
    assert r.status_code == 302
    assert r["Location"] == reverse("admin:login") + "?next=%2Fadmin%2Ftickets%2Fticket%2F"
    r = client.post(
        r["Location"],
        {"username": "bruno", "password": "clave-de-prueba-123", "next": QUEUE},
    )
    assert r.status_code == 302 and r["Location"] == QUEUE


def test_a_login_asked_for_another_page_still_goes_there(client):
    r = client.get(reverse("admin:login"), {"next": "/admin/tickets/category/"})
    assert r.status_code == 200


# --- tickets for callers ------------------------------------------------------------------------
def caller_data(**overrides):
    data = submission_data(channel=Channel.PHONE, name="Pedro Soto", email="psoto@example.org")
    data.pop("captcha_0"), data.pop("captcha_1")
    data.update(overrides)
    return data


def test_staff_open_a_ticket_for_a_caller_and_the_caller_gets_the_tracking_id(agent_client):
    r = agent_client.post(ADD, caller_data())
    ticket = Ticket.objects.get(email="psoto@example.org")
    assert r.status_code == 302
    assert r["Location"] == reverse("admin:tickets_ticket_change", args=[ticket.pk])
    assert ticket.channel == Channel.PHONE and ticket.status == Status.NEW
    assert ticket.staff_due_at is not None and ticket.ip_address is None
    mail = OutgoingEmail.objects.get(kind="ticket_created", to="psoto@example.org")
    assert ticket.tracking_id in mail.subject
    page = agent_client.get(r["Location"]).content.decode()
    assert "teléfono" in page


def test_a_caller_ticket_with_errors_keeps_what_was_typed(agent_client):
    r = agent_client.post(ADD, caller_data(project_number="abc", message="Llamó por su clave"))
    assert r.status_code == 400
    html = r.content.decode()
    assert "Llamó por su clave</textarea>" in html
    assert "Escriba el número de proyecto" in html
    assert not Ticket.objects.exists()


def test_a_public_ticket_is_from_the_web(ticket):
    assert ticket.channel == Channel.WEB


# --- merge --------------------------------------------------------------------------------------
@pytest.fixture
def duplicate(db, agent):
    dup = make_ticket(
        name="Rosa Díaz",
        email="rdiaz@example.org",
        message="No puedo subir el informe final",
        files=[pdf("informe-final.pdf")],
    )
    dup.add_agent_reply(user=agent, message="¿Qué error ve?")
    return dup


def test_merging_moves_the_conversation_files_and_history_into_the_main_ticket(
    agent, ticket, duplicate
):
    duplicate.merge_into(ticket, user=agent, requesters_share=True)
    ticket.refresh_from_db()
    files, replies = ticket.conversation(internal=True)
    messages = [r.message for r in replies]
    assert messages == ["No puedo subir el informe final", "¿Qué error ve?"]
    assert [f.original_name for f in replies[0].files] == ["informe-final.pdf"]
    assert duplicate.status == Status.CLOSED and duplicate.merged_into == ticket
    assert TicketEvent.objects.filter(ticket=ticket, field="merge").exists()
    assert TicketEvent.objects.filter(
        ticket=ticket, field="status", new_value="Respondido"
    ).exists()
    to = set(OutgoingEmail.objects.filter(kind="ticket_merged").values_list("to", flat=True))
    assert to == {ticket.email, "rdiaz@example.org"}
    assert ticket.reply_count == 2


def test_a_ticket_cannot_be_merged_into_itself_nor_into_one_it_contains(agent, ticket, duplicate):
    with pytest.raises(MergeError):
        ticket.merge_into(ticket, user=agent)
    duplicate.merge_into(ticket, user=agent, requesters_share=True)
    with pytest.raises(MergeError):
        ticket.merge_into(duplicate, user=agent, requesters_share=True)
    with pytest.raises(MergeError):
        duplicate.merge_into(ticket, user=agent, requesters_share=True)
    assert not Reply.objects.filter(ticket=duplicate).exists()


def test_the_old_tracking_id_leads_to_the_main_ticket(client, agent, ticket, duplicate):
    duplicate.merge_into(ticket, user=agent, requesters_share=True)
    r = client.get(reverse("tickets:ticket", args=[duplicate.tracking_id]))
    assert r.status_code == 302
    assert r["Location"] == reverse("tickets:ticket", args=[ticket.tracking_id])
    assert "No puedo subir el informe final" in client.get(r["Location"]).content.decode()
    plain = client.get(reverse("tickets:ticket", args=[ticket.tracking_id]))
    assert plain.status_code == 200


def test_bulk_merge_selected_into_a_main_ticket(agent_client, ticket, duplicate):
    third = make_ticket(email="tercero@example.org")
    r = agent_client.post(
        QUEUE,
        {"action": "merge_selected", "_selected_action": [duplicate.pk, third.pk], "index": 0},
    )
    assert r.status_code == 302 and r["Location"].startswith(MERGE)
    form = agent_client.get(r["Location"])
    assert duplicate.tracking_id in form.content.decode()
    ids = f"{duplicate.pk},{third.pk}"
    typed = ticket.tracking_id.lower().replace("-", "")
    r = agent_client.post(MERGE, {"ids": ids, "main": typed, "requesters_share": "on"})
    assert r.status_code == 302
    assert set(Ticket.objects.filter(merged_into=ticket).values_list("pk", flat=True)) == {
        duplicate.pk,
        third.pk,
    }


def test_another_requesters_ticket_is_not_merged_without_staff_confirming_it(
    agent_client, ticket, duplicate
):
    r = agent_client.post(MERGE, {"ids": str(duplicate.pk), "main": ticket.tracking_id})
    assert r.status_code == 400
    html = r.content.decode()
    assert "es de otro solicitante (rdiaz@example.org)" in html
    assert f'value="{ticket.tracking_id}"' in html  # what was typed stays
    duplicate.refresh_from_db()
    assert duplicate.merged_into is None
    assert not OutgoingEmail.objects.filter(kind="ticket_merged").exists()
    r = agent_client.post(
        MERGE, {"ids": str(duplicate.pk), "main": ticket.tracking_id, "requesters_share": "on"}
    )
    assert r.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.merged_into == ticket


def test_the_same_requesters_tickets_merge_without_asking(agent_client, ticket):
    again = make_ticket(email=ticket.email.upper(), message="Lo mismo otra vez")
    r = agent_client.post(MERGE, {"ids": str(again.pk), "main": str(ticket.number)})
    assert r.status_code == 302
    again.refresh_from_db()
    assert again.merged_into == ticket


def test_merging_into_an_unknown_ticket_says_so_and_changes_nothing(agent_client, duplicate):
    r = agent_client.post(MERGE, {"ids": str(duplicate.pk), "main": "99999"})
    assert r.status_code == 400
    assert "No hay un ticket con ese número" in r.content.decode()
    duplicate.refresh_from_db()
    assert duplicate.merged_into is None


# --- print --------------------------------------------------------------------------------------
def test_the_print_view_has_the_whole_ticket_for_staff_only(client, agent_client, agent, ticket):
    ticket.add_agent_reply(user=agent, message="nota para imprimir", kind="internal")
    url = reverse("admin:tickets_ticket_print", args=[ticket.pk])
    html = agent_client.get(url).content.decode()
    assert ticket.tracking_id in html and "nota para imprimir" in html
    client.logout()
    assert client.get(url).status_code == 302


def test_the_requesters_page_has_a_print_button(client, ticket):
    html = client.get(reverse("tickets:ticket", args=[ticket.tracking_id])).content.decode()
    assert "data-print" in html


def test_the_ticket_page_has_one_history_button(agent_client, ticket):
    html = agent_client.get(
        reverse("admin:tickets_ticket_change", args=[ticket.pk])
    ).content.decode()
    assert html.count('href="#historial"') == 1
    assert "/history/" not in html


# --- wording ------------------------------------------------------------------------------------
def test_the_outbox_lists_kinds_in_spanish_and_no_next_attempt_for_sent_rows(
    client, supervisor, ticket
):
    from tickets.models import OutgoingEmail

    OutgoingEmail.objects.filter(kind="ticket_created").update(state=OutgoingEmail.State.SENT)
    client.force_login(supervisor)
    html = client.get(reverse("admin:tickets_outgoingemail_changelist")).content.decode()
    assert "Confirmación de ticket recibido" in html
    assert ">ticket_created<" not in html
    sent = OutgoingEmail.objects.get(kind="ticket_created")
    page = client.get(
        reverse("admin:tickets_outgoingemail_change", args=[sent.pk])
    ).content.decode()
    assert "Próximo intento" in page or "próximo intento" in page


def test_a_feminine_model_gets_an_agreeing_message(client, supervisor):
    client.force_login(supervisor)
    r = client.post(
        reverse("admin:tickets_cannedresponse_add"),
        {"title": "Clave", "body": "Hola {nombre}.", "is_active": "on", "_save": "Guardar"},
        follow=True,
    )
    html = r.content.decode()
    assert "Se agregó correctamente «" in html and "(respuesta predefinida)" in html
    assert "El respuesta predefinida" not in html
