from django.utils import translation

from tickets.models import Status, TicketEvent


def test_setting_answered_by_hand_starts_the_requesters_clock(ticket, agent):
    ticket.change(user=agent, status=Status.ANSWERED)
    ticket.refresh_from_db()
    assert ticket.status == Status.ANSWERED
    assert ticket.requester_due_at is not None
    assert ticket.staff_due_at is None


def test_setting_in_progress_keeps_the_staff_clock_and_no_requester_clock(ticket, agent):
    ticket.change(user=agent, status=Status.IN_PROGRESS)
    ticket.refresh_from_db()
    assert ticket.requester_due_at is None
    assert ticket.staff_due_at is not None


def test_history_is_recorded_in_spanish_whatever_the_requesters_language(ticket):
    with translation.override("en"):
        ticket.add_requester_reply(message="Any news?")
    event = TicketEvent.objects.get(ticket=ticket, field="status")
    assert (event.old_value, event.new_value) == ("Nuevo", "Esperando respuesta")
