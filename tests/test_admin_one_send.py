"""The ticket page's one send: reply and state together, and a ticket that changed meanwhile."""

from django.urls import reverse

from tests.conftest import make_ticket, ticket_form_data
from tickets.models import Category, OutgoingEmail, Priority, Reply, Status, TicketEvent


def page_url(ticket):
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


def test_one_send_applies_a_note_with_priority_assignee_and_status_and_records_each(
    agent_client, agent, ticket
):
    category = Category.objects.get(name="Convenios")
    r = agent_client.post(
        page_url(ticket),
        ticket_form_data(
            ticket,
            reply_kind="internal",
            reply_message="Lo veo con TI",
            priority=Priority.HIGH,
            assignee=agent.pk,
            status=Status.IN_PROGRESS,
            category=category.pk,
        ),
    )
    assert r.status_code == 302
    assert r["Location"] == page_url(ticket) + "#conversacion"
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee, ticket.category) == (
        Status.IN_PROGRESS,
        Priority.HIGH,
        agent,
        category,
    )
    assert Reply.objects.get(ticket=ticket).is_internal
    assert set(TicketEvent.objects.filter(ticket=ticket).values_list("field", flat=True)) == {
        "status",
        "priority",
        "assignee",
        "category",
    }
    page = agent_client.get(page_url(ticket)).content.decode()
    assert "Lo veo con TI" in page
    assert "Cambios registrados en el historial; el ticket quedó en estado En curso." in page


def test_a_public_reply_sent_with_leave_in_progress_ends_in_progress_and_mails_the_answer(
    agent_client, ticket
):
    agent_client.post(
        page_url(ticket),
        ticket_form_data(ticket, reply_message="Estamos revisando.", _then=Status.IN_PROGRESS),
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.staff_due_at is not None and ticket.requester_due_at is None
    assert OutgoingEmail.objects.filter(ticket=ticket, kind="agent_replied").count() == 1
    steps = list(
        TicketEvent.objects.filter(ticket=ticket, field="status").values_list(
            "old_value", "new_value"
        )
    )
    assert steps == [("Nuevo", "Respondido"), ("Respondido", "En curso")]


def test_a_public_reply_with_the_plain_send_leaves_the_ticket_answered(agent_client, ticket):
    agent_client.post(page_url(ticket), ticket_form_data(ticket, reply_message="Listo."))
    ticket.refresh_from_db()
    assert ticket.status == Status.ANSWERED


def test_a_send_on_a_ticket_that_changed_meanwhile_is_not_applied_and_keeps_the_text(
    agent_client, agent, supervisor, ticket
):
    loaded = ticket_form_data(
        ticket, reply_message="Mi respuesta escrita con calma", priority=Priority.HIGH
    )
    # Meanwhile the requester answers and a colleague assigns the ticket to herself.
    ticket.add_requester_reply(message="Ya no es necesario, gracias")
    ticket.change(user=supervisor, assignee=supervisor)
    r = agent_client.post(page_url(ticket), loaded)
    assert r.status_code == 200
    html = r.content.decode()
    assert "Mientras usted escribía, el ticket cambió" in html
    assert "Cambios desde que abrió el ticket" in html
    assert "Ya no es necesario, gracias" in html
    assert "Mi respuesta escrita con calma</textarea>" in html
    # The agent's own change stays chosen; the colleague's assignment is what the form now shows.
    assert f'<option value="{Priority.HIGH}" selected>' in html
    assert f'<option value="{supervisor.pk}" selected>' in html
    ticket.refresh_from_db()
    assert ticket.priority == Priority.LOW
    assert not Reply.objects.filter(ticket=ticket, kind=Reply.Kind.AGENT).exists()


def test_the_second_send_after_a_change_meanwhile_is_applied(agent_client, supervisor, ticket):
    loaded = ticket_form_data(ticket, reply_message="Respuesta")
    ticket.change(user=supervisor, priority=Priority.MEDIUM)
    assert agent_client.post(page_url(ticket), loaded).status_code == 200
    again = ticket_form_data(ticket, reply_message="Respuesta")
    assert agent_client.post(page_url(ticket), again).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.ANSWERED and ticket.priority == Priority.MEDIUM


def test_an_internal_note_by_a_colleague_also_counts_as_a_change(agent_client, agent, ticket):
    loaded = ticket_form_data(ticket, status=Status.RESOLVED)
    ticket.add_agent_reply(user=agent, message="nota de otro", kind="internal")
    assert agent_client.post(page_url(ticket), loaded).status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_closing_as_cerrado_from_the_page_tells_the_requester(agent_client, ticket):
    agent_client.post(page_url(ticket), ticket_form_data(ticket, status=Status.CLOSED))
    mail = OutgoingEmail.objects.get(ticket=ticket, kind="ticket_closed")
    assert mail.to == ticket.email
    assert "Cerrado" in mail.body_text and "Cerrado" in mail.body_html
    other = make_ticket()
    agent_client.post(page_url(other), ticket_form_data(other, status=Status.ON_HOLD))
    assert not OutgoingEmail.objects.filter(ticket=other, kind="ticket_closed").exists()


def test_the_bulk_status_action_to_cerrado_tells_each_requester(agent_client, ticket):
    other = make_ticket(email="otro@example.org")
    agent_client.post(
        reverse("admin:tickets_ticket_changelist"),
        {
            "action": "set_status",
            "new_status": Status.CLOSED,
            "_selected_action": [ticket.pk, other.pk],
            "index": 0,
        },
    )
    assert set(OutgoingEmail.objects.filter(kind="ticket_closed").values_list("to", flat=True)) == {
        ticket.email,
        "otro@example.org",
    }
