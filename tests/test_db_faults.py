"""A database connection cut at the worst moments, as a failover or a restart of PostgreSQL does.

Each test ends the server process behind this thread's connection (``pg_terminate_backend``
from a second connection) right before a chosen query, so the query meets a dead
connection exactly where production would: after the SMTP server accepted a message,
between two batches of the sender thread, after a submission committed, in the middle of
each cron command's batch. What the person would notice is asserted: one e-mail, one
ticket, the tracking ID on screen, the command's summary.
"""

import re
import threading
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO
from pathlib import Path

import psycopg
import pytest
import time_machine
from django.core.management import call_command
from django.db import OperationalError, connection, connections
from django.utils import timezone

from tests.conftest import make_ticket, pdf, submission_data
from tests.smtp import smtp_down, smtp_server  # noqa: F401 (fixtures)
from tests.test_close_stalled_tickets import DEADLINE, answered, notices
from tickets import dbfaults, outbox
from tickets.models import Attachment, OutgoingEmail, Status, Ticket

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="cuts a real server connection (pg_terminate_backend): run with DATABASE_URL=postgres://…",
    ),
    # Commits must be real: what survives a cut is what was committed. serialized_rollback
    # puts back the regions and categories the migrations seeded.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
State = OutgoingEmail.State
ALICIA = "alicia@desarrollosocial.gob.cl"


@pytest.fixture
def mail_server(request):
    """tests/smtp.py's listening server (by another name: its own is taken by the import)."""
    return request.getfixturevalue("smtp_server")


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    # The back-off is for a server coming back; here it is back at once.
    monkeypatch.setattr(dbfaults, "BACKOFF", (0, 0, 0))
    monkeypatch.setattr(outbox, "RECORD_BACKOFF", (0, 0, 0))


def terminate(pid):
    """End the server process ``pid`` from a connection of our own, and wait until it is gone."""
    s = connection.settings_dict
    with psycopg.connect(
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        user=s["USER"] or None,
        password=s["PASSWORD"] or None,
        dbname=s["NAME"],
        autocommit=True,
    ) as other:
        assert other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()[0]


@contextmanager
def cut(when, nth=1):
    """Kill this thread's connection right before the ``nth`` query for which ``when(sql)`` holds."""
    seen, cuts = [], []

    def wrapper(execute, sql, params, many, context):
        if not cuts and when(sql):
            seen.append(sql)
            if len(seen) == nth:
                cuts.append(sql)
                terminate(context["connection"].connection.info.backend_pid)
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(wrapper):
            yield cuts
    finally:
        # What Django does before each request (the test client skips it): a connection
        # an error left unusable is replaced before the next request meets it.
        dbfaults.ensure_usable_connection()
    assert cuts, "the query to cut never ran"


def command(name, *args):
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue().strip()


def queue(n, **fields):
    return [
        OutgoingEmail.objects.create(
            kind="test", to=f"persona{i}@desarrollosocial.gob.cl", subject=f"Mensaje {i}", **fields
        )
        for i in range(n)
    ]


def recording_sent(sql):
    return sql.startswith('UPDATE "tickets_outgoingemail"') and '"sent_at"' in sql


def claiming(sql):
    # Only the claim returns rows. (Matching '"attempts"' also matched the records,
    # conditional on the attempt number.)
    return 'UPDATE "tickets_outgoingemail"' in sql and "RETURNING" in sql


# --- 1. the sent state, after the SMTP server took the message ------------------------------------
def test_a_cut_after_the_server_accepted_a_message_still_records_it_sent_and_it_is_never_sent_again(
    mail_server, caplog
):
    (msg,) = queue(1, body_text="Hola")
    with cut(recording_sent):
        assert command("send_queued_mail") == "sent 1, failed 0, still queued 0"
    msg.refresh_from_db()
    assert (msg.state, msg.attempts) == (State.SENT, 1)
    assert "database connection lost" in caplog.text
    # Well past the lease, when a row left "sending" would go out again.
    with time_machine.travel(timezone.now() + outbox.LEASE * 2):
        assert command("send_queued_mail") == "sent 0, failed 0, still queued 0"
    assert [m.subject for m in mail_server.messages] == ["Mensaje 0"]


def test_a_database_down_past_every_retry_leaves_the_message_to_its_lease_and_it_goes_again(
    mail_server, monkeypatch
):
    # The race the outbox accepts, and why the retries matter: without a recorded
    # "sent", the message is sent a second time once its lease runs out.
    (msg,) = queue(1, body_text="Hola")

    def down(execute, sql, params, many, context):
        if recording_sent(sql):
            raise OperationalError("the connection is closed")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(down), pytest.raises(OperationalError):
        outbox.send_due()
    msg.refresh_from_db()
    assert msg.state == State.SENDING
    with time_machine.travel(timezone.now() + outbox.LEASE * 2):
        assert command("send_queued_mail") == "sent 1, failed 0, still queued 0"
    assert [m.subject for m in mail_server.messages] == ["Mensaje 0", "Mensaje 0"]


def test_a_cut_while_claiming_a_batch_in_the_middle_of_a_run_sends_every_message_once(
    mail_server, monkeypatch
):
    monkeypatch.setattr(outbox, "BATCH", 2)  # two claims for three rows: cut the second
    queue(3, body_text="Hola")
    with cut(claiming, nth=2):
        assert command("send_queued_mail") == "sent 3, failed 0, still queued 0"
    assert sorted(m.subject for m in mail_server.messages) == [
        "Mensaje 0",
        "Mensaje 1",
        "Mensaje 2",
    ]
    assert set(OutgoingEmail.objects.values_list("state", "attempts")) == {(State.SENT, 1)}


def test_a_claim_whose_answer_was_lost_leaves_its_rows_to_their_lease_and_they_go_once(
    mail_server,
):
    # The connection dies after the claim committed, before its rows came back: the
    # retry finds them claimed (no longer due), so they are sent late, never twice.
    queue(3, body_text="Hola")
    lost = []

    def answer_lost(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if claiming(sql) and not lost:
            lost.append(sql)
            terminate(context["connection"].connection.info.backend_pid)
            raise OperationalError("server closed the connection unexpectedly")
        return result

    with connection.execute_wrapper(answer_lost):
        assert command("send_queued_mail") == "sent 0, failed 0, still queued 3"
    dbfaults.ensure_usable_connection()
    assert lost and mail_server.messages == []
    assert set(OutgoingEmail.objects.values_list("state", "attempts")) == {(State.SENDING, 1)}
    with time_machine.travel(timezone.now() + outbox.LEASE * 2):
        assert command("send_queued_mail") == "sent 3, failed 0, still queued 0"
    assert sorted(m.subject for m in mail_server.messages) == [
        "Mensaje 0",
        "Mensaje 1",
        "Mensaje 2",
    ]
    assert set(OutgoingEmail.objects.values_list("state", "attempts")) == {(State.SENT, 2)}


# --- 2. the after-commit sender thread -------------------------------------------------------------
def test_after_a_cut_between_two_batches_the_sender_thread_reconnects_and_sends_the_second(
    mail_server, monkeypatch, caplog
):
    first, second = queue(2, body_text="Hola")
    real_send_ids = outbox.send_ids
    second_queued = threading.Event()

    def send_ids(ids):
        run = real_send_ids(ids)
        if ids == [first.pk]:
            # The thread keeps its connection while more work is queued: cut it now, idle.
            assert second_queued.wait(10)
            terminate(connection.connection.info.backend_pid)
        return run

    monkeypatch.setattr(outbox, "send_ids", send_ids)
    one = outbox.send_soon([first.pk])
    two = outbox.send_soon([second.pk])
    second_queued.set()
    assert one.join(10) and two.join(10)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (State.SENT, State.SENT)
    assert sorted(m.subject for m in mail_server.messages) == ["Mensaje 0", "Mensaje 1"]
    # Checked before the batch, so the batch itself met no dead connection.
    assert "database connection lost" not in caplog.text
    assert "sending after commit failed" not in caplog.text


def test_the_sender_thread_keeps_its_connection_between_batches_and_closes_it_once_idle(
    mail_server, monkeypatch
):
    first, second = queue(2, body_text="Hola")
    real_send_ids = outbox.send_ids
    backends = []
    closed = threading.Event()

    def send_ids(ids):
        run = real_send_ids(ids)
        backends.append(connection.connection.info.backend_pid)
        return run

    class Connection:
        """The thread's ``connection``, telling the test when it is closed."""

        def __getattr__(self, name):
            return getattr(connection, name)

        def close(self):
            connection.close()
            closed.set()

    monkeypatch.setattr(outbox, "send_ids", send_ids)
    monkeypatch.setattr(outbox, "connection", Connection())
    monkeypatch.setattr(outbox, "IDLE_SECONDS", 2)
    assert outbox.send_soon([first.pk]).join(10)
    assert outbox.send_soon([second.pk]).join(10)
    assert not closed.is_set()
    assert len(backends) == 2 and backends[0] == backends[1]
    assert closed.wait(10)
    assert sorted(m.subject for m in mail_server.messages) == ["Mensaje 0", "Mensaje 1"]


def test_a_cut_in_the_middle_of_a_sender_thread_batch_costs_no_message(mail_server):
    msgs = queue(3, body_text="Hola")
    ids = [m.pk for m in msgs]
    done = threading.Event()
    seen = []

    def cut_in_thread(execute, sql, params, many, context):
        # The batch's three messages are recorded sent by one UPDATE, after the server
        # took them all: cut that one; its retry is the second seen.
        if recording_sent(sql):
            seen.append(sql)
            if len(seen) == 1:
                terminate(context["connection"].connection.info.backend_pid)
        return execute(sql, params, many, context)

    def sender():
        try:
            with connection.execute_wrapper(cut_in_thread):
                outbox.send_ids(ids)
        finally:
            connection.close()
            done.set()

    threading.Thread(target=sender).start()
    assert done.wait(30)
    assert len(seen) >= 2
    assert set(OutgoingEmail.objects.values_list("state", "attempts")) == {(State.SENT, 1)}
    assert sorted(m.subject for m in mail_server.messages) == [
        "Mensaje 0",
        "Mensaje 1",
        "Mensaje 2",
    ]


# --- 3. a submission, after its commit -------------------------------------------------------------
def after_the_ticket_is_written(test):
    """A predicate true for the first query matching ``test`` once the ticket's INSERT ran."""
    state = {"inserted": False}

    def when(sql):
        if writes_the_ticket(sql):
            state["inserted"] = True
            return False
        return state["inserted"] and test(sql)

    return when


def writes_the_ticket(sql):
    # On PostgreSQL the INSERT is part of the statement that takes the number (Ticket.open).
    return 'INSERT INTO "tickets_ticket"' in sql


def session_query(sql):
    return '"django_session"' in sql


def form_token(client):
    html = client.get("/ticket/nuevo/").content.decode()
    return re.search(r'name="submission_token" value="([^"]+)"', html).group(1)


def tracking_id_shown(r):
    return re.search(r'class="tracking-id">([A-Z0-9-]{12})<', r.content.decode()).group(1)


@pytest.mark.parametrize("browser", ["new", "returning"])
def test_a_cut_after_the_ticket_committed_still_shows_the_tracking_id_and_a_retry_adds_nothing(
    client, settings, browser
):
    settings.LOOKUP_REQUIRES_EMAIL = True
    if browser == "returning":
        # A session already stored: the cut hits reading it in the view, not saving it.
        client.post("/ticket/nuevo/", submission_data(submission_token=form_token(client)))
        assert client.cookies["sessionid"].value
    before = Ticket.objects.count()
    data = submission_data(email="ana@desarrollosocial.gob.cl", submission_token=form_token(client))
    with cut(after_the_ticket_is_written(session_query)):
        r = client.post("/ticket/nuevo/", data)
    assert r.status_code == 302 and r["Location"] == "/ticket/enviado/"
    ticket = Ticket.objects.get(email="ana@desarrollosocial.gob.cl")

    page = client.get("/ticket/enviado/")
    assert page.status_code == 200
    assert tracking_id_shown(page) == ticket.tracking_id
    # The confirmation page stored what the cut session could not: the ticket opens
    # from this browser without asking for the e-mail again.
    assert client.get(f"/ticket/{ticket.tracking_id}/").status_code == 200

    # The same form sent again (a refresh, a double click) finds the same ticket.
    again = client.post("/ticket/nuevo/", data)
    assert again["Location"] == "/ticket/enviado/"
    assert tracking_id_shown(client.get("/ticket/enviado/")) == ticket.tracking_id
    assert Ticket.objects.count() == before + 1
    assert OutgoingEmail.objects.filter(ticket=ticket, kind="ticket_created").count() == 1


def test_a_cut_before_the_ticket_committed_shows_the_error_page_and_the_form_sent_again_saves_it_once(
    client,
):
    client.raise_request_exception = False
    data = submission_data(submission_token=form_token(client))
    with cut(writes_the_ticket):
        r = client.post("/ticket/nuevo/", data)
    assert r.status_code == 500
    assert "Inténtelo de nuevo" in r.content.decode()
    assert not Ticket.objects.exists()

    r = client.post("/ticket/nuevo/", data)
    assert r.status_code == 302
    assert tracking_id_shown(client.get("/ticket/enviado/")) == Ticket.objects.get().tracking_id


def test_a_session_that_cannot_be_saved_after_a_mere_look_up_is_still_an_error(client):
    # Only a response that reports committed work is sent without its session.
    ticket = make_ticket()
    client.raise_request_exception = False
    with cut(session_query):
        r = client.post("/ticket/ver/", {"tracking_id": ticket.tracking_id})
    assert r.status_code == 500


def test_a_confirmation_cookie_from_elsewhere_shows_nothing(client):
    ticket = make_ticket()
    client.cookies["ticket_enviado"] = f"{ticket.tracking_id}:forjado"
    r = client.get("/ticket/enviado/")
    assert r.status_code == 302 and r["Location"] == "/ticket/nuevo/"


# --- 4. the cron commands, in the middle of a batch ------------------------------------------------
def test_a_cut_in_the_middle_of_a_close_stalled_tickets_batch_closes_each_ticket_once(agent):
    tickets = [answered(agent, email=f"persona{i}@desarrollosocial.gob.cl") for i in range(5)]
    with (
        time_machine.travel(DEADLINE + timedelta(hours=1), tick=False),
        cut(lambda sql: sql.startswith('UPDATE "tickets_ticket"'), nth=2),
    ):
        out = command("close_stalled_tickets", "--batch-size", "3")
    assert out == "closed 5 (Cerrado 0, Resuelto 5), skipped 0, errors 0"
    assert set(Ticket.objects.values_list("status", flat=True)) == {Status.RESOLVED}
    for t in tickets:
        assert notices(t).count() == 1
        assert t.replies.filter(kind="system").count() == 1


def test_a_cut_in_the_middle_of_an_anonymization_leaves_no_ticket_half_done():
    old = timezone.now() - timedelta(days=365 * 3)
    tickets = [make_ticket(files=[pdf()]) for _ in range(3)]
    Ticket.objects.update(status=Status.CLOSED, closed_at=old)
    paths = [a.file.path for a in Attachment.objects.all()]
    with cut(lambda sql: sql.startswith('UPDATE "tickets_ticket"'), nth=2):
        out = command("anonymize_closed_tickets", "--batch-size", "2")
    assert out.startswith("anonymized 3 tickets, deleted 3 files, skipped 0, errors 0")
    for t in tickets:
        t.refresh_from_db()
        assert t.email.endswith("@invalid") and t.message == "[eliminado]"
    assert not Attachment.objects.exists()
    assert not any(Path(p).exists() for p in paths)


def test_a_cut_in_the_middle_of_a_purge_deletes_every_old_record_once():
    long_ago = timezone.now() - timedelta(days=200)
    queue(5, body_text="Hola", state=State.SENT, sent_at=long_ago)
    recent = queue(1, body_text="Hola", state=State.SENT, sent_at=timezone.now())
    with cut(lambda sql: sql.startswith('DELETE FROM "tickets_outgoingemail"'), nth=2):
        out = command("purge_old_records", "--batch-size", "2")
    assert out.startswith("deleted 5 e-mails and 0 access-log rows")
    assert list(OutgoingEmail.objects.values_list("pk", flat=True)) == [recent[0].pk]


def test_a_cut_with_the_database_still_down_ends_the_command_with_the_error():
    # The sibling: the retries are for a connection that comes back, not a database
    # that stays down; then the run stops, and cron's next run starts over.
    queue(2, body_text="Hola", state=State.SENT, sent_at=timezone.now() - timedelta(days=200))

    def down(execute, sql, params, many, context):
        if sql.startswith('DELETE FROM "tickets_outgoingemail"'):
            raise OperationalError("the connection is closed")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(down), pytest.raises(OperationalError):
        command("purge_old_records")
    assert OutgoingEmail.objects.count() == 2


def test_a_checked_connection_is_not_checked_again_by_its_first_query(settings, monkeypatch):
    # The after-commit sender checks its connection before each batch; Django's own
    # health check (CONN_HEALTH_CHECKS) must not send a second SELECT 1 for it.
    OutgoingEmail.objects.exists()  # a connection to check
    checks = []
    wrapper = type(connections["default"])
    real = wrapper.is_usable
    monkeypatch.setattr(wrapper, "is_usable", lambda self: checks.append(1) or real(self))
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    dbfaults.ensure_usable_connection()
    OutgoingEmail.objects.exists()
    assert checks == [1]
