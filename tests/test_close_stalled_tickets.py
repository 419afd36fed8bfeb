"""close_stalled_tickets: tickets waiting on a requester who never answered are closed by cron.

Deadlines are worked out by hand from the 09:00-17:00 working day and Chile's
2026/2027 holidays as the `holidays` package lists them (18 Sep 2026 is a
Friday, 12 Oct 2026 a Monday, 20 Aug 2026 a Thursday in Ñuble only, 7 Jun 2027
a Monday in Arica y Parinacota only). The clock is frozen with time-machine.
"""

import logging
import threading
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from tests.conftest import make_ticket
from tickets import emails, ratings, tracking
from tickets.management.commands import close_stalled_tickets
from tickets.models import (
    Category,
    NonWorkingDay,
    OutgoingEmail,
    Priority,
    Region,
    Reply,
    Status,
    Ticket,
    TicketEvent,
)

SANTIAGO = ZoneInfo("America/Santiago")
CLOSED_TEXT = (
    "Ticket cerrado automáticamente: no recibimos la información solicitada dentro del plazo."
)
RESOLVED_TEXT = "Ticket marcado como Resuelto automáticamente: no hubo respuesta dentro del plazo."
# What closing a batch costs, however many tickets it holds: the batch's read, the lock, the
# extra days off (for the resolution times), the claim, and one INSERT each for the history,
# the system replies and the notices.
QUERIES_PER_BATCH = 7


def at(year, month, day, hour=0, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=SANTIAGO)


# Thursday 17 September 2026, the day before the Fiestas Patrias (Fri 18 and Sat 19).
THURSDAY = at(2026, 9, 17, 10, 0)
# 7 working hours on Thursday, none on the holiday or the weekend, 8 on Monday, 1 on Tuesday.
DEADLINE = at(2026, 9, 22, 10, 0)


def run(*args):
    out = StringIO()
    call_command("close_stalled_tickets", *args, stdout=out)
    return out.getvalue()


def run_at(moment, *args):
    with time_machine.travel(moment, tick=False):
        return run(*args)


def answered(agent, when=THURSDAY, kind="public", **overrides):
    """A ticket submitted and answered by an agent at ``when``."""
    with time_machine.travel(when, tick=False):
        t = make_ticket(**overrides)
        t.add_agent_reply(user=agent, message="Revise la sección Rendiciones.", kind=kind)
    return t


def page(client, t):
    return client.get(f"/ticket/{t.tracking_id}/").content.decode()


def notices(t=None):
    q = OutgoingEmail.objects.filter(kind="ticket_closed_automatically")
    return q.filter(ticket=t) if t else q


def data_queries(ctx):
    return [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]


def reads(ctx):
    # On PostgreSQL each table's rows are written by COPY, after a SELECT of their pks
    # from its sequence (tickets/bulk.py): that SELECT stands for the INSERT.
    return [sql for sql in data_queries(ctx) if sql.startswith("SELECT") and "nextval(" not in sql]


def snapshot():
    return (
        list(
            Ticket.objects.order_by("pk").values_list(
                "pk", "status", "closed_at", "updated_at", "reply_count"
            )
        ),
        Reply.objects.count(),
        TicketEvent.objects.count(),
        OutgoingEmail.objects.count(),
    )


# --- the "Done when" scenario ---------------------------------------------------------------------
def test_an_unanswered_information_request_closes_as_cerrado_and_an_unanswered_answer_as_resuelto(
    client, agent
):
    a = answered(agent, kind="information", name="Ana Araya", email="ana@example.org")
    b = answered(agent, kind="public", name="Berta Bravo", email="berta@example.org")
    for t in (a, b):
        assert t.status == Status.ANSWERED
        assert t.requester_due_at == DEADLINE  # the Friday holiday is skipped

    out = run_at(at(2026, 9, 23, 9, 0))  # Wednesday: both requesters let two business days pass

    assert out == "closed 2 (Cerrado 1, Resuelto 1), skipped 0, errors 0\n"
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, b.status) == (Status.CLOSED, Status.RESOLVED)
    for t in (a, b):
        assert t.closed_by_system is True
        assert t.closed_at == at(2026, 9, 23, 9, 0)
        assert t.requester_due_at is None and t.staff_due_at is None
        assert t.reply_count == 2 and t.last_replier == "Mesa de Ayuda SIGEC"
        event = t.events.get(field="status", actor_kind="system")
        assert (event.old_value, event.new_value) == ("Respondido", t.get_status_display())
        assert event.actor is None and str(event.actor_label) == "Sistema"

    html = page(client, a)
    assert ">Cerrado<" in html and CLOSED_TEXT in html and "entry-system" in html
    assert "Su plazo para responder" not in html
    html = page(client, b)
    assert ">Resuelto<" in html and RESOLVED_TEXT in html

    mail = notices(a).get()
    assert mail.to == "ana@example.org"
    assert mail.subject == f"[#{a.tracking_id}] Su ticket fue cerrado"
    assert "pasó a estado Cerrado" in mail.body_text and "pasó a estado Cerrado" in mail.body_html
    assert f"/ticket/{a.tracking_id}/" in mail.body_text
    mail = notices(b).get()
    assert mail.to == "berta@example.org"
    assert mail.subject == f"[#{b.tracking_id}] Su ticket fue resuelto"
    assert "se dio por Resuelto" in mail.body_text and "se dio por Resuelto" in mail.body_html


def test_running_it_again_changes_nothing_and_queues_no_more_mail(agent):
    answered(agent, kind="information")
    answered(agent)
    run_at(at(2026, 9, 23, 9, 0))
    before = snapshot()

    out = run_at(at(2026, 9, 23, 9, 10))

    assert out == "closed 0 (Cerrado 0, Resuelto 0), skipped 0, errors 0\n"
    assert snapshot() == before
    assert notices().count() == 2


def test_nothing_closes_before_the_deadline(agent):
    t = answered(agent, kind="information")
    # Monday 17:00 would have been the deadline without the holiday.
    assert run_at(at(2026, 9, 21, 17, 0)).startswith("closed 0 ")
    assert run_at(at(2026, 9, 22, 9, 59)).startswith("closed 0 ")
    t.refresh_from_db()
    assert t.status == Status.ANSWERED and not notices().exists()

    assert run_at(DEADLINE).startswith("closed 1 (Cerrado 1, Resuelto 0)")
    t.refresh_from_db()
    assert t.status == Status.CLOSED


def test_a_ticket_the_requester_answered_is_not_closed(agent):
    replied = answered(agent, kind="information")
    silent = answered(agent, kind="information")
    with time_machine.travel(at(2026, 9, 21, 11, 0), tick=False):
        replied.add_requester_reply(message="Adjunto el número de convenio: 4411.")

    out = run_at(at(2026, 9, 23, 9, 0))

    assert out.startswith("closed 1 ")
    replied.refresh_from_db()
    silent.refresh_from_db()
    assert replied.status == Status.WAITING_STAFF and replied.closed_at is None
    assert silent.status == Status.CLOSED
    assert not notices(replied).exists() and notices(silent).count() == 1


def test_the_requester_can_still_reply_after_the_system_closed_it_which_reopens_it(client, agent):
    t = answered(agent, kind="information")
    run_at(at(2026, 9, 23, 9, 0))

    with time_machine.travel(at(2026, 9, 24, 9, 0), tick=False):
        r = client.post(
            f"/ticket/{t.tracking_id}/responder/", {"message": "Perdón, aquí va el dato: 4411."}
        )
    assert r.status_code == 302

    t.refresh_from_db()
    assert t.status == Status.WAITING_STAFF
    assert t.closed_at is None and t.closed_by_system is False
    assert t.staff_due_at == at(2026, 9, 25, 17, 0)  # Thursday 9:00 + 16 working hours
    event = t.events.order_by("-pk").first()
    assert (event.old_value, event.new_value, event.actor_kind) == (
        "Cerrado",
        "Esperando respuesta",
        "requester",
    )


@pytest.mark.parametrize("status", [Status.IN_PROGRESS, Status.ON_HOLD])
def test_en_curso_and_en_espera_never_close_by_themselves(agent, status):
    parked = answered(agent, kind="information")
    # The verbs clear requester_due_at on these statuses; forge an old one to prove
    # the command looks at the status, not only at the deadline.
    Ticket.objects.filter(pk=parked.pk).update(status=status, requester_due_at=at(2026, 1, 5, 9, 0))
    sibling = answered(agent, kind="information")
    Ticket.objects.filter(pk=sibling.pk).update(requester_due_at=at(2026, 1, 5, 9, 0))

    out = run_at(at(2026, 9, 23, 9, 0))

    assert out.startswith("closed 1 ")
    parked.refresh_from_db()
    sibling.refresh_from_db()
    assert parked.status == status and parked.closed_at is None and not notices(parked).exists()
    assert sibling.status == Status.CLOSED


# --- the calendar behind the deadline -----------------------------------------------------------
@pytest.mark.parametrize(
    "code, answered_at, rm_deadline, regional_deadline",
    [
        # 20 August 2026 (Thursday) is a holiday in Ñuble only.
        ("NB", at(2026, 8, 19, 10, 0), at(2026, 8, 21, 10, 0), at(2026, 8, 24, 10, 0)),
        # 7 June 2027 (Monday) is a holiday in Arica y Parinacota only (in 2026 it is a Sunday).
        ("AP", at(2027, 6, 3, 10, 0), at(2027, 6, 7, 10, 0), at(2027, 6, 8, 10, 0)),
    ],
)
def test_a_regional_holiday_closes_that_regions_ticket_a_day_later(
    agent, code, answered_at, rm_deadline, regional_deadline
):
    rm = answered(agent, answered_at, region=Region.objects.get(code="RM"))
    regional = answered(agent, answered_at, region=Region.objects.get(code=code))
    assert rm.requester_due_at == rm_deadline
    assert regional.requester_due_at == regional_deadline

    assert run_at(rm_deadline).startswith("closed 1 ")
    rm.refresh_from_db()
    regional.refresh_from_db()
    assert rm.status == Status.RESOLVED and regional.status == Status.ANSWERED

    assert run_at(regional_deadline).startswith("closed 1 ")
    regional.refresh_from_db()
    assert regional.status == Status.RESOLVED


def test_nivel_central_follows_the_metropolitan_calendar(agent):
    nc = answered(agent, at(2026, 8, 19, 10, 0), region=Region.objects.get(code="NC"))
    assert nc.requester_due_at == at(2026, 8, 21, 10, 0)  # Ñuble's 20 August does not apply


def test_an_extra_non_working_day_moves_the_deadline(agent):
    NonWorkingDay.objects.create(
        date=datetime(2026, 10, 16).date(), description="Feriado decretado"
    )
    t = answered(agent, at(2026, 10, 15, 10, 0))
    # Thursday 7 h, the decreed Friday off, Monday 8 h, Tuesday 1 h.
    assert t.requester_due_at == at(2026, 10, 20, 10, 0)

    assert run_at(at(2026, 10, 19, 10, 0)).startswith("closed 0 ")
    assert run_at(at(2026, 10, 20, 10, 0)).startswith("closed 1 ")


def test_an_extra_non_working_day_for_one_region_moves_only_that_regions_deadline(agent):
    NonWorkingDay.objects.create(
        date=datetime(2026, 10, 16).date(),
        region=Region.objects.get(code="NB"),
        description="Cierre de oficina",
    )
    rm = answered(agent, at(2026, 10, 15, 10, 0), region=Region.objects.get(code="RM"))
    nb = answered(agent, at(2026, 10, 15, 10, 0), region=Region.objects.get(code="NB"))
    assert rm.requester_due_at == at(2026, 10, 19, 10, 0)
    assert nb.requester_due_at == at(2026, 10, 20, 10, 0)


def test_the_encuentro_de_dos_mundos_monday_is_skipped_too(agent):
    # Thursday 8 October 2026: Thursday 7 h, Friday 8 h, Monday 12 October off, Tuesday 1 h.
    t = answered(agent, at(2026, 10, 8, 10, 0), kind="information")
    assert t.requester_due_at == at(2026, 10, 13, 10, 0)
    assert run_at(at(2026, 10, 12, 16, 0)).startswith("closed 0 ")
    assert run_at(at(2026, 10, 13, 10, 0)).startswith("closed 1 (Cerrado 1")


# --- the deadlines the verbs store ----------------------------------------------------------------
def test_the_staff_deadline_is_sixteen_business_hours_after_submission(db):
    with time_machine.travel(THURSDAY, tick=False):
        t = make_ticket()
    assert t.staff_due_at == DEADLINE
    assert t.requester_due_at is None


def test_a_public_answer_stops_the_staff_clock_and_starts_the_requesters(agent):
    t = answered(agent, kind="public")
    t.refresh_from_db()
    assert t.staff_due_at is None
    assert t.requester_due_at == DEADLINE
    assert t.awaiting_information is False


def test_a_requester_reply_restarts_the_staff_clock_and_stops_the_requesters(agent):
    t = answered(agent, kind="information")
    with time_machine.travel(at(2026, 9, 21, 11, 0), tick=False):
        t.add_requester_reply(message="Aquí está.")
    t.refresh_from_db()
    assert t.staff_due_at == at(2026, 9, 23, 11, 0)
    assert t.requester_due_at is None and t.awaiting_information is False


def test_a_note_or_an_edit_after_the_answer_does_not_move_the_requester_deadline(agent):
    t = answered(agent, kind="information")
    with time_machine.travel(at(2026, 9, 21, 12, 0), tick=False):
        t.add_agent_reply(
            user=agent, message="Nota: pedir el convenio al encargado regional.", kind="internal"
        )
        t.change(
            user=agent,
            priority=Priority.HIGH,
            category=Category.objects.exclude(pk=t.category_id).first(),
        )
        t.change(user=agent, assignee=agent)
    t.refresh_from_db()
    assert t.priority == Priority.HIGH and t.assignee == agent
    assert t.requester_due_at == DEADLINE and t.awaiting_information is True
    assert run_at(DEADLINE).startswith("closed 1 (Cerrado 1")


def test_a_second_public_answer_does_move_the_requester_deadline(agent):
    t = answered(agent, kind="information")
    with time_machine.travel(at(2026, 9, 21, 10, 0), tick=False):
        t.add_agent_reply(user=agent, message="Ya lo encontramos, está resuelto.", kind="public")
    t.refresh_from_db()
    assert t.requester_due_at == at(2026, 9, 23, 10, 0)
    assert t.awaiting_information is False
    assert run_at(at(2026, 9, 22, 12, 0)).startswith("closed 0 ")
    assert run_at(at(2026, 9, 23, 10, 0)).startswith("closed 1 (Cerrado 0, Resuelto 1)")


def test_a_priority_change_from_a_copy_loaded_before_the_answer_keeps_the_answer_and_its_deadline(
    agent,
):
    with time_machine.travel(at(2026, 9, 16, 10, 0), tick=False):
        t = make_ticket()
    stale = Ticket.objects.get(pk=t.pk)  # an agent's bulk action read it before the answer
    with time_machine.travel(THURSDAY, tick=False):
        t.add_agent_reply(user=agent, message="¿Cuál es el número de convenio?", kind="information")
    with time_machine.travel(at(2026, 9, 17, 11, 0), tick=False):
        stale.change(user=agent, priority=Priority.CRITICAL)
    t.refresh_from_db()
    assert t.priority == Priority.CRITICAL
    assert t.status == Status.ANSWERED
    assert (
        t.requester_due_at == DEADLINE and t.staff_due_at is None and t.awaiting_information is True
    )


def test_a_requester_reply_from_a_page_loaded_before_the_closing_reopens_the_closed_ticket(agent):
    t = answered(agent, kind="information")
    stale = Ticket.objects.get(pk=t.pk)  # the requester opened the page before cron ran
    run_at(at(2026, 9, 23, 9, 0))
    with time_machine.travel(at(2026, 9, 23, 9, 5), tick=False):
        stale.add_requester_reply(message="Aquí está el número: 4411.")
    t.refresh_from_db()
    assert t.status == Status.WAITING_STAFF and t.closed_by_system is False and t.closed_at is None
    assert t.reply_count == 3  # the agent's answer, the system entry, the requester's reply
    event = t.events.order_by("-pk").first()
    assert (event.old_value, event.new_value) == ("Cerrado", "Esperando respuesta")


# --- claims, concurrency and failures ------------------------------------------------------------
def test_two_copies_of_a_ticket_closing_at_once_close_it_once(agent):
    t = answered(agent, kind="information")
    first, second = Ticket.objects.get(pk=t.pk), Ticket.objects.get(pk=t.pk)
    now = at(2026, 9, 23, 9, 0)
    with time_machine.travel(now, tick=False):
        assert first.close_stalled(now) is True
        assert second.close_stalled(now) is False
    assert Reply.objects.filter(ticket=t, kind=Reply.Kind.SYSTEM).count() == 1
    assert t.events.filter(actor_kind="system").count() == 1
    assert notices(t).count() == 1
    t.refresh_from_db()
    assert t.reply_count == 2


def test_a_copy_read_before_a_new_answer_does_not_close_the_ticket(agent):
    t = answered(agent, kind="public")
    stale = Ticket.objects.get(pk=t.pk)
    with time_machine.travel(at(2026, 9, 23, 9, 0), tick=False):
        t.add_agent_reply(
            user=agent, message="Falta un dato: el RUT del representante.", kind="information"
        )
        assert stale.close_stalled(at(2026, 9, 23, 9, 0)) is False
    t.refresh_from_db()
    assert t.status == Status.ANSWERED and not notices(t).exists()


def test_a_ticket_another_run_closed_in_the_meantime_is_counted_as_skipped(agent, monkeypatch):
    tickets = [answered(agent) for _ in range(3)]
    now = at(2026, 9, 23, 9, 0)
    read = close_stalled_tickets.due_batch

    def raced(*args, **kwargs):
        batch = read(*args, **kwargs)
        # The other cron node closes one between our read and our claim.
        assert Ticket.objects.get(pk=tickets[1].pk).close_stalled(now) is True
        return batch

    monkeypatch.setattr(close_stalled_tickets, "due_batch", raced)
    out = run_at(now)
    assert out == "closed 2 (Cerrado 0, Resuelto 2), skipped 1, errors 0\n"
    assert notices().count() == 3
    assert Reply.objects.filter(kind=Reply.Kind.SYSTEM).count() == 3
    assert TicketEvent.objects.filter(actor_kind="system").count() == 3
    assert list(Ticket.objects.values_list("reply_count", flat=True)) == [2, 2, 2]


def test_a_failing_ticket_does_not_stop_the_others(agent, monkeypatch, caplog):
    tickets = [answered(agent, kind="information" if i else "public") for i in range(3)]
    broken = tickets[1]
    token = ratings._token

    def token_for(signer, ticket):
        if ticket.pk == broken.pk:
            raise RuntimeError("disk full")
        return token(signer, ticket)

    monkeypatch.setattr(ratings, "_token", token_for)
    with caplog.at_level(
        logging.WARNING, logger="tickets.management.commands.close_stalled_tickets"
    ):
        out = run_at(at(2026, 9, 23, 9, 0))

    # The batch fails whole, then its tickets close one at a time: only the broken one fails.
    assert out == "closed 2 (Cerrado 1, Resuelto 1), skipped 0, errors 1\n"
    assert [t.status for t in Ticket.objects.order_by("pk")] == [
        Status.RESOLVED,
        Status.ANSWERED,
        Status.CLOSED,
    ]
    warning, error = caplog.records
    assert warning.levelno == logging.WARNING and "one at a time" in warning.getMessage()
    assert error.levelno == logging.ERROR
    assert error.exc_info is not None and error.exc_info[0] is RuntimeError
    assert f"#{broken.number}" in error.getMessage()
    assert tracking.short(broken.tracking_id) in error.getMessage()
    assert broken.tracking_id not in error.getMessage()
    # Nothing of the failed batch attempt is left behind: one of each for the closed ones.
    for t in (tickets[0], tickets[2]):
        assert notices(t).count() == 1
        assert Reply.objects.filter(ticket=t, kind=Reply.Kind.SYSTEM).count() == 1
        assert t.events.filter(actor_kind="system").count() == 1
    assert not notices(broken).exists() and not broken.events.filter(actor_kind="system")

    monkeypatch.undo()
    assert (
        run_at(at(2026, 9, 23, 9, 10)) == "closed 1 (Cerrado 1, Resuelto 0), skipped 0, errors 0\n"
    )


def test_a_failed_batch_leaves_the_copies_as_they_were_read(agent, monkeypatch):
    tickets = [answered(agent) for _ in range(2)]
    copies = list(Ticket.objects.order_by("pk"))
    read = [(t.status, t.requester_due_at, t.reply_count, t.closed_at) for t in copies]

    def broken_template(tickets):
        raise OSError("template missing")

    monkeypatch.setattr("tickets.emails.tickets_closed_automatically", broken_template)
    with pytest.raises(OSError), transaction.atomic():
        Ticket.close_stalled_batch(copies, at(2026, 9, 23, 9, 0))
    # What one-at-a-time closing after a failed batch relies on: the copies still match the rows.
    assert [(t.status, t.requester_due_at, t.reply_count, t.closed_at) for t in copies] == read
    assert all(
        t.status == Status.ANSWERED for t in Ticket.objects.filter(pk__in=[t.pk for t in tickets])
    )


def test_a_ticket_whose_notice_fails_is_left_untouched_for_the_next_run(agent, monkeypatch):
    t = answered(agent, kind="information")

    def broken_template(tickets):
        raise OSError("template missing")

    monkeypatch.setattr("tickets.emails.tickets_closed_automatically", broken_template)
    assert run_at(at(2026, 9, 23, 9, 0)).endswith("errors 1\n")
    t.refresh_from_db()
    # The claim was rolled back with the rest: no half-closed ticket without its notice.
    assert (
        t.status == Status.ANSWERED
        and t.requester_due_at == DEADLINE
        and t.closed_by_system is False
    )
    assert not Reply.objects.filter(kind=Reply.Kind.SYSTEM).exists()
    assert not t.events.filter(actor_kind="system").exists()


def test_the_loop_ends_when_every_ticket_of_every_batch_fails(agent, monkeypatch):
    for _ in range(5):
        answered(agent)

    def close_stalled_batch(cls, tickets, now):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(Ticket, "close_stalled_batch", classmethod(close_stalled_batch))
    with CaptureQueriesContext(connection) as ctx:
        out = run_at(at(2026, 9, 23, 9, 0), "--batch-size", "2")
    assert out == "closed 0 (Cerrado 0, Resuelto 0), skipped 0, errors 5\n"
    assert len(reads(ctx)) == 3  # batches of 2, 2 and 1, each read once


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs a server that runs two transactions at once"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_once_on_postgresql_close_each_ticket_once():
    agent = User.objects.create_user(
        "bruno", "bruno@desarrollosocial.gob.cl", "clave-de-prueba-123", is_staff=True
    )
    tickets = [answered(agent, kind=("information" if i % 3 == 0 else "public")) for i in range(30)]
    barrier = threading.Barrier(2)
    outputs = []

    def one_run():
        try:
            barrier.wait()
            outputs.append(run("--batch-size", "7"))
        finally:
            connection.close()

    with time_machine.travel(at(2026, 9, 23, 9, 0), tick=False):
        threads = [threading.Thread(target=one_run) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()

    closed = sum(int(o.split()[1]) for o in outputs)
    assert closed == 30, outputs
    assert all(o.endswith(" errors 0\n") for o in outputs), outputs
    for t in tickets:
        assert Reply.objects.filter(ticket=t, kind=Reply.Kind.SYSTEM).count() == 1
        assert notices(t).count() == 1
        assert TicketEvent.objects.filter(ticket=t, actor_kind="system").count() == 1
    assert set(Ticket.objects.values_list("reply_count", flat=True)) == {2}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs a server that runs two transactions at once"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_ticket_someone_holds_on_postgresql_is_skipped_without_waiting_and_closed_next_time():
    agent = User.objects.create_user(
        "bruno", "bruno@desarrollosocial.gob.cl", "clave-de-prueba-123", is_staff=True
    )
    held, free = answered(agent), answered(agent)
    locked, release = threading.Event(), threading.Event()

    def agent_editing():
        # What a verb's _lock() does while an agent's change is being saved.
        try:
            with transaction.atomic():
                Ticket.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    editor = threading.Thread(target=agent_editing)
    editor.start()
    try:
        assert locked.wait(timeout=30)
        out = run_at(at(2026, 9, 23, 9, 0))
    finally:
        release.set()
        editor.join()

    assert out == "closed 1 (Cerrado 0, Resuelto 1), skipped 1, errors 0\n"
    assert Ticket.objects.get(pk=held.pk).status == Status.ANSWERED
    assert Ticket.objects.get(pk=free.pk).status == Status.RESOLVED
    assert run_at(at(2026, 9, 23, 9, 10)) == (
        "closed 1 (Cerrado 0, Resuelto 1), skipped 0, errors 0\n"
    )
    assert notices(held).count() == 1 and notices(free).count() == 1


# --- the command's surface ------------------------------------------------------------------------
def test_dry_run_lists_what_would_close_and_changes_nothing(agent):
    a = answered(agent, kind="information")
    b = answered(agent, at(2026, 9, 17, 11, 0))
    answered(agent, at(2026, 9, 22, 10, 0))  # not due yet
    before = snapshot()

    out = run_at(at(2026, 9, 23, 9, 0), "--dry-run")

    assert out.splitlines() == [
        f"#{a.number} {tracking.short(a.tracking_id)} -> Cerrado (plazo 2026-09-22 10:00)",
        f"#{b.number} {tracking.short(b.tracking_id)} -> Resuelto (plazo 2026-09-22 11:00)",
        "would close 2 (Cerrado 1, Resuelto 1); dry run, nothing changed",
    ]
    assert a.tracking_id not in out
    assert snapshot() == before


def test_it_leaves_sending_the_notices_to_send_queued_mail(
    agent, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_SEND_ON_COMMIT = True
    early = answered(agent)
    late = answered(agent, at(2026, 9, 21, 10, 0))  # due Wednesday 10:00
    with django_capture_on_commit_callbacks() as from_the_command:
        assert run_at(at(2026, 9, 23, 9, 0)).startswith("closed 1 ")
    with (
        time_machine.travel(at(2026, 9, 23, 10, 0), tick=False),
        django_capture_on_commit_callbacks() as from_elsewhere,
    ):
        assert Ticket.objects.get(pk=late.pk).close_stalled() is True
    # From cron, a sending thread per closed ticket would be killed when the process exits.
    assert from_the_command == []
    assert notices(early).get().state == OutgoingEmail.State.QUEUED
    assert len(from_elsewhere) == 1


def test_it_prints_one_summary_line_when_there_is_nothing_to_do(db):
    assert (
        run_at(at(2026, 9, 23, 9, 0)) == "closed 0 (Cerrado 0, Resuelto 0), skipped 0, errors 0\n"
    )


def test_it_refuses_a_batch_size_below_one(db):
    with pytest.raises(CommandError):
        run("--batch-size", "0")


def test_each_run_reads_the_clock_afresh(agent):
    t = answered(agent)
    run_at(at(2026, 9, 21, 9, 0))
    run_at(at(2026, 9, 23, 9, 0))
    t.refresh_from_db()
    assert t.status == Status.RESOLVED


@pytest.mark.parametrize("n", [3, 30])
def test_a_batch_costs_the_same_queries_however_many_tickets_it_closes(
    agent, django_assert_max_num_queries, n
):
    regions = list(Region.objects.all())
    for i in range(n):
        answered(agent, kind="information" if i % 2 else "public", region=regions[i % len(regions)])
    NonWorkingDay.objects.create(date=datetime(2026, 9, 21).date(), description="Decretado")
    # Plus a SAVEPOINT and its RELEASE around the batch and around its closing (inside
    # the test's own transaction): statements, not round trips for data.
    with django_assert_max_num_queries(QUERIES_PER_BATCH + 4) as ctx:
        out = run_at(at(2026, 9, 23, 9, 0), "--batch-size", "50")
    assert out.startswith(f"closed {n} ")
    assert len(data_queries(ctx)) == QUERIES_PER_BATCH
    # The batch's due tickets, the lock, and the extra days off of every region at once.
    assert len(reads(ctx)) == 3


def test_the_queries_grow_with_the_batches_not_with_the_tickets(agent):
    for _ in range(12):
        answered(agent)
    with CaptureQueriesContext(connection) as ctx:
        out = run_at(at(2026, 9, 23, 9, 0), "--batch-size", "5")
    assert out.startswith("closed 12 ")
    # Batches of 5, 5 and 2.
    assert len(data_queries(ctx)) == 3 * QUERIES_PER_BATCH


def test_the_resolution_time_counts_each_regions_days_off(agent):
    # Monday 21 September 2026 off in Ñuble only: its ticket has 8 working hours fewer.
    rm = answered(agent, region=Region.objects.get(code="RM"))
    nb = answered(agent, region=Region.objects.get(code="NB"))
    NonWorkingDay.objects.create(
        date=datetime(2026, 9, 21).date(), region=nb.region, description="Cierre de oficina"
    )
    assert run_at(at(2026, 9, 24, 10, 0)).startswith("closed 2 ")
    rm.refresh_from_db()
    nb.refresh_from_db()
    # Thursday 7 h, Monday 8 h, Tuesday 8 h, Wednesday 8 h, Thursday 1 h (Ñuble: no Monday).
    assert (rm.resolution_business_hours, nb.resolution_business_hours) == (32.0, 24.0)
    assert rm.resolution_business_hours == rm.business_hours_since_created(rm.closed_at)
    assert nb.resolution_business_hours == nb.business_hours_since_created(nb.closed_at)


def test_a_batch_writes_each_ticket_the_same_notice_reply_and_history_as_one_ticket_alone(agent):
    ana = answered(agent, kind="information", name="Ana Araya", email="ana@example.org")
    brian = answered(
        agent, name="Brian Bell", email="brian@example.org", language="en", project_number=4411
    )
    now = at(2026, 9, 23, 9, 0)
    assert run_at(now).startswith("closed 2 (Cerrado 1, Resuelto 1)")

    ana.refresh_from_db()
    brian.refresh_from_db()
    with time_machine.travel(now, tick=False):
        rating = {t.pk: ratings.rating_url(t) for t in (ana, brian)}
    # Word for word what the one-ticket path wrote before batches (its notice's text, checked
    # against that code): each in the requester's own language, whatever its neighbours'.
    mail = notices(ana).get()
    assert (mail.to, mail.subject) == (
        "ana@example.org",
        f"[#{ana.tracking_id}] Su ticket fue cerrado",
    )
    assert mail.body_text == (
        "Estimado(a) Ana Araya:\n\n"
        "No recibimos la información solicitada dentro del plazo de dos días hábiles, por lo que "
        "su ticket pasó a estado Cerrado.\n"
        "Si aún lo necesita, responda en el ticket y lo reabriremos:\n"
        f"http://127.0.0.1:8000/ticket/{ana.tracking_id}/\n\n"
        "¿Cómo fue la atención? Califíquela de 1 a 5 (es opcional y toma un minuto):\n"
        f"{rating[ana.pk]}\n\n\n"
        f"ID de seguimiento: {ana.tracking_id}\n"
        f"Ticket número: {ana.number}\n"
        "Categoría: Error de sistema\n"
        "Región: Metropolitana de Santiago\n"
        "Número de proyecto: 29928\n\n\n"
    )
    assert f'<a href="{rating[ana.pk]}">Calificar la atención</a>' in mail.body_html
    mail = notices(brian).get()
    assert (mail.to, mail.subject) == (
        "brian@example.org",
        f"[#{brian.tracking_id}] Your ticket has been resolved",
    )
    assert mail.body_text == (
        "Dear Brian Bell,\n\n"
        "We did not receive a reply within two business days, so your ticket has been marked as "
        "Resolved.\n"
        "If you still need help, reply on the ticket and we will reopen it:\n"
        f"http://127.0.0.1:8000/ticket/{brian.tracking_id}/\n\n"
        "How was the service? Rate it from 1 to 5 (it is optional and takes a minute):\n"
        f"{rating[brian.pk]}\n\n\n"
        f"Tracking ID: {brian.tracking_id}\n"
        f"Ticket number: {brian.number}\n"
        "Category: Error de sistema\n"
        "Region: Metropolitana de Santiago\n"
        "Project number: 4411\n\n\n"
    )
    assert '<html lang="en">' in mail.body_html and "Rate the service" in mail.body_html
    assert mail.state == OutgoingEmail.State.QUEUED and mail.message_id

    # The conversation entry in the requester's language, the history in the staff's.
    with translation.override("en"):
        english = translation.gettext(RESOLVED_TEXT)
    assert english != RESOLVED_TEXT
    for t, text, label in ((ana, CLOSED_TEXT, "Cerrado"), (brian, english, "Resuelto")):
        entry = t.replies.get(kind=Reply.Kind.SYSTEM)
        assert (entry.author_name, entry.message, entry.created_at) == (
            "Mesa de Ayuda SIGEC",
            text,
            now,
        )
        assert entry.author_id is None and not entry.is_internal
        event = t.events.get(actor_kind="system")
        assert (event.field, event.old_value, event.new_value, event.actor_id) == (
            "status",
            "Respondido",
            label,
            None,
        )
        assert t.resolution_business_hours == 23.0  # Thursday 7 h, Monday, Tuesday, Wednesday 0 h


def test_closing_one_ticket_alone_updates_the_callers_copy(agent):
    t = answered(agent, kind="information")
    now = at(2026, 9, 23, 9, 0)
    assert t.close_stalled(now) is True
    copy = (t.status, t.closed_at, t.closed_by_system, t.requester_due_at, t.reply_count)
    t.refresh_from_db()
    assert copy == (Status.CLOSED, now, True, None, 2)
    assert (t.status, t.closed_at, t.closed_by_system, t.requester_due_at, t.reply_count) == copy


def test_notices_rendered_once_for_a_batch_say_what_each_ticket_alone_would(agent, caplog):
    regions = list(Region.objects.order_by("position")[:3])
    people = [
        answered(agent, name="Ana <b>Araya</b>", region=regions[0]),
        answered(agent, name="O'Higgins & Cía.", region=regions[1], project_number=123456),
        answered(agent, name="Brian   Bell", region=regions[2], project_number=7),
        answered(
            agent, name="Carla Díaz", category=Category.objects.exclude(name="Error de sistema")[0]
        ),
    ]
    now = at(2026, 9, 23, 9, 0)
    assert run_at(now).startswith("closed 4 ")
    assert "rendered one by one" not in caplog.text
    for t in people:
        t.refresh_from_db()
        mail = notices(t).get()
        with time_machine.travel(now, tick=False):
            (alone,) = emails._render(
                "ticket_closed_automatically",
                [t.email],
                ticket=t,
                language=t.language,
                rating_url=ratings.rating_url(t),
            )
        assert (mail.subject, mail.body_text, mail.body_html) == (
            alone.subject,
            alone.body_text,
            alone.body_html,
        )
    html = notices(people[1]).get().body_html
    assert (
        "O&#x27;Higgins &amp; Cía." in html and "<b>Araya" not in notices(people[0]).get().body_html
    )
