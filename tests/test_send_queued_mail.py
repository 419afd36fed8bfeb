"""The outbox sender (``send_queued_mail``), against a real SMTP server on loopback."""

import io
import threading
from datetime import timedelta

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_ticket, submission_data
from tests.smtp import free_port
from tests.test_concurrency import needs_postgresql
from tickets import outbox
from tickets.models import OutgoingEmail

pytestmark = pytest.mark.django_db
State = OutgoingEmail.State
CHANGELIST = "admin:tickets_outgoingemail_changelist"


def send(*args):
    out = io.StringIO()
    call_command("send_queued_mail", *args, stdout=out)
    return out.getvalue().strip()


def queue(to="alicia@desarrollosocial.gob.cl", subject="Prueba", **fields):
    return OutgoingEmail.objects.create(
        kind="test", to=to, subject=subject, body_text="Hola", **fields
    )


def many_queued(n):
    return OutgoingEmail.objects.bulk_create(
        OutgoingEmail(
            kind="test",
            to=f"persona{i}@desarrollosocial.gob.cl",
            subject=f"Mensaje {i}",
            body_text="Hola",
        )
        for i in range(n)
    )


def fresh(**fields):
    """A row as emails._rows writes it: with its Message-ID (older rows get one when sent)."""
    return queue(message_id=outbox.new_message_id(), **fields)


def ago(minutes):
    return timezone.now() - timedelta(minutes=minutes)


def submit_twenty(client):
    addresses = [f"persona{i}@desarrollosocial.gob.cl" for i in range(20)]
    for i, address in enumerate(addresses):
        r = client.post(
            "/ticket/nuevo/", submission_data(email=address), REMOTE_ADDR=f"192.168.21.{100 + i}"
        )
        assert r.status_code == 302
    return addresses


# --- the server down, then back ---------------------------------------------------------
def test_with_the_server_down_twenty_submissions_succeed_and_their_confirmations_wait(
    client, smtp_down
):
    submit_twenty(client)
    assert OutgoingEmail.objects.filter(kind="ticket_created", state=State.QUEUED).count() == 20
    summary = send()
    assert summary.startswith(
        "sent 0, failed 0, still queued 40; mail server unreachable (ConnectionRefusedError"
    )
    # An outage is not the messages' fault: no attempt is spent.
    assert set(OutgoingEmail.objects.values_list("state", "attempts", "last_error")) == {
        (State.QUEUED, 0, "")
    }


def test_once_the_server_is_back_each_confirmation_is_delivered_exactly_once(client, smtp_down):
    addresses = submit_twenty(client)
    smtp_down.start()
    assert send() == "sent 40, failed 0, still queued 0"
    confirmations = [m for m in smtp_down.messages if m.subject.endswith("Ticket recibido")]
    assert sorted(r for m in confirmations for r in m.rcpt_tos) == sorted(addresses)
    assert len(smtp_down.messages) == 40  # and one notice to the help desk per ticket
    assert send() == "sent 0, failed 0, still queued 0"
    assert len(smtp_down.messages) == 40


def test_with_nothing_due_the_command_does_not_connect(smtp_down):
    queue(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert send() == "sent 0, failed 0, still queued 1"


# --- two senders ------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_senders_running_at_once_never_send_a_message_twice(smtp_server):
    if connection.vendor == "sqlite":
        pytest.skip(
            "the SQLite test database lives in memory (shared cache), where concurrent writers "
            "fail with 'table is locked'; run with DATABASE_URL=postgres://… to exercise this race"
        )
    many_queued(60)
    start = threading.Barrier(2)
    runs = []

    def sender():
        try:
            start.wait()
            runs.append(outbox.send_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    subjects = sorted(m.subject for m in smtp_server.messages)
    assert subjects == sorted(f"Mensaje {i}" for i in range(60))
    assert sum(r.sent for r in runs) == 60
    assert OutgoingEmail.objects.filter(state=State.SENT, attempts=1).count() == 60


@needs_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_after_commit_sender_and_cron_racing_send_each_message_once(smtp_server):
    rows = many_queued(30)
    start = threading.Barrier(2)
    runs = []

    def sender(**kwargs):
        try:
            start.wait()
            runs.append(outbox.send_due(**kwargs))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=sender, kwargs={"ids": [r.pk for r in rows]}),
        threading.Thread(target=sender),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(m.subject for m in smtp_server.messages) == sorted(
        f"Mensaje {i}" for i in range(30)
    )
    assert sum(r.sent for r in runs) == 30
    assert OutgoingEmail.objects.filter(state=State.SENT, attempts=1).count() == 30


@needs_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_claim_skips_a_row_another_sender_is_claiming_instead_of_waiting_for_it():
    first, second = (queue(next_attempt_at=ago(2)), queue(next_attempt_at=ago(1)))
    claimed = []

    def claim():
        try:
            claimed.extend(outbox.claim(timezone.now(), 5))
        finally:
            connection.close()

    s = connection.settings_dict
    with psycopg.connect(
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        user=s["USER"] or None,
        dbname=s["NAME"],
    ) as other:
        # The other sender's claim of the first row, not committed yet.
        other.execute("SELECT id FROM tickets_outgoingemail WHERE id = %s FOR UPDATE", [first.pk])
        # In a thread, so that a claim waiting for the lock fails the test instead of hanging it
        # (the lock goes when this block ends).
        t = threading.Thread(target=claim)
        t.start()
        t.join(5)
        finished_while_locked = not t.is_alive()
    t.join(10)
    assert finished_while_locked
    assert [m.pk for m in claimed] == [second.pk]
    first.refresh_from_db()
    assert (first.state, first.attempts) == (State.QUEUED, 0)


def test_a_claimed_row_is_not_claimed_again_while_its_lease_runs(db):
    msg = queue()
    now = timezone.now()
    assert [(m.pk, m.state, m.attempts) for m in outbox.claim(now, 5)] == [
        (msg.pk, State.SENDING, 1)
    ]
    # A second sender, even one that read the row as due a moment ago.
    assert outbox.claim(now, 5) == []
    assert outbox.claim(now + outbox.LEASE - timedelta(seconds=1), 5) == []
    msg.refresh_from_db()
    assert (msg.state, msg.attempts) == (State.SENDING, 1)


def test_a_row_whose_lease_ran_out_is_claimed_again(db):
    msg = queue()
    now = timezone.now()
    outbox.claim(now, 5)
    (again,) = outbox.claim(now + outbox.LEASE, 5)
    assert (again.pk, again.state, again.attempts) == (msg.pk, State.SENDING, 2)


def test_a_claim_takes_the_oldest_due_rows_and_no_more_than_asked(db):
    rows = [queue(next_attempt_at=ago(10 - i)) for i in range(5)]
    queue(next_attempt_at=timezone.now() + timedelta(minutes=5))  # not due
    queue(state=State.FAILED, next_attempt_at=ago(60))
    queue(state=State.SENT, next_attempt_at=ago(60))
    claimed = outbox.claim(timezone.now(), 2)
    assert [m.pk for m in claimed] == [rows[0].pk, rows[1].pk]
    assert OutgoingEmail.objects.filter(state=State.SENDING).count() == 2
    assert [m.pk for m in outbox.claim(timezone.now(), 10)] == [r.pk for r in rows[2:]]
    assert OutgoingEmail.objects.filter(state=State.SENDING).count() == 5


def test_a_claim_among_ids_takes_only_those(db):
    mine, other = queue(), queue()
    assert [m.pk for m in outbox.claim(timezone.now(), 5, ids=[mine.pk])] == [mine.pk]
    other.refresh_from_db()
    assert (other.state, other.attempts) == (State.QUEUED, 0)


def test_a_claimed_row_comes_back_whole(db):
    msg = queue(subject="Asunto", body_html="<p>Hola</p>", next_attempt_at=ago(1))
    (claimed,) = outbox.claim(timezone.now(), 1)
    assert (claimed.to, claimed.subject, claimed.body_text, claimed.body_html) == (
        msg.to,
        "Asunto",
        "Hola",
        "<p>Hola</p>",
    )
    assert claimed.created_at == msg.created_at
    assert claimed.next_attempt_at > timezone.now() + outbox.LEASE - timedelta(minutes=1)


def test_a_row_being_sent_is_left_alone_while_its_lease_runs(smtp_server):
    queue(state=State.SENDING, attempts=1, next_attempt_at=timezone.now() + timedelta(minutes=9))
    assert send() == "sent 0, failed 0, still queued 1"
    assert smtp_server.messages == []


def test_a_row_whose_sender_died_is_sent_once_its_lease_ran_out(smtp_server):
    msg = queue(state=State.SENDING, attempts=1, next_attempt_at=ago(1))
    assert send() == "sent 1, failed 0, still queued 0"
    msg.refresh_from_db()
    assert (msg.state, msg.attempts) == (State.SENT, 2)


def test_a_row_queued_without_a_message_id_is_sent_with_one_stored_on_it(smtp_server):
    old, new = queue(), fresh()
    assert send() == "sent 2, failed 0, still queued 0"
    old.refresh_from_db()
    assert old.message_id and old.message_id != new.message_id
    assert sorted(m.message["Message-ID"] for m in smtp_server.messages) == sorted(
        [old.message_id, new.message_id]
    )


# --- failures and back-off -----------------------------------------------------------------------
def test_a_temporary_failure_counts_an_attempt_and_backs_off(smtp_server):
    smtp_server.inbox.rcpt_replies["ocupado@desarrollosocial.gob.cl"] = (
        "451 4.3.0 Intente más tarde"
    )
    msg = queue(to="ocupado@desarrollosocial.gob.cl")
    before = timezone.now()
    assert send() == "sent 0, failed 1, still queued 1"
    msg.refresh_from_db()
    assert (msg.state, msg.attempts) == (State.QUEUED, 1)
    assert "451" in msg.last_error
    assert msg.next_attempt_at >= before + timedelta(minutes=1)
    assert smtp_server.messages == []


def test_a_row_that_failed_is_not_retried_before_its_next_attempt(smtp_server):
    smtp_server.inbox.rcpt_replies["ocupado@desarrollosocial.gob.cl"] = (
        "451 4.3.0 Intente más tarde"
    )
    msg = queue(to="ocupado@desarrollosocial.gob.cl")
    send()
    del smtp_server.inbox.rcpt_replies["ocupado@desarrollosocial.gob.cl"]
    assert send() == "sent 0, failed 0, still queued 1"
    OutgoingEmail.objects.filter(pk=msg.pk).update(next_attempt_at=ago(0))
    assert send() == "sent 1, failed 0, still queued 0"
    msg.refresh_from_db()
    assert (msg.state, msg.attempts, msg.last_error) == (State.SENT, 2, "")


def test_each_failure_waits_longer_than_the_one_before(db):
    delays = [OutgoingEmail(attempts=n).retry_delay() for n in range(1, outbox.MAX_ATTEMPTS + 1)]
    assert delays[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert delays == sorted(delays) and max(delays) == timedelta(hours=6)


def test_after_the_last_attempt_a_failing_row_is_failed_and_never_retried(smtp_server):
    smtp_server.inbox.rcpt_replies["ocupado@desarrollosocial.gob.cl"] = (
        "451 4.3.0 Intente más tarde"
    )
    msg = queue(to="ocupado@desarrollosocial.gob.cl", attempts=outbox.MAX_ATTEMPTS - 1)
    assert send() == "sent 0, failed 1, still queued 0"
    msg.refresh_from_db()
    assert (msg.state, msg.attempts) == (State.FAILED, outbox.MAX_ATTEMPTS)
    OutgoingEmail.objects.filter(pk=msg.pk).update(next_attempt_at=ago(1))
    smtp_server.inbox.rcpt_replies.clear()
    assert send() == "sent 0, failed 0, still queued 0"
    assert smtp_server.messages == []


def test_before_the_last_attempt_a_failing_row_stays_queued(smtp_server):
    smtp_server.inbox.rcpt_replies["ocupado@desarrollosocial.gob.cl"] = (
        "451 4.3.0 Intente más tarde"
    )
    msg = queue(to="ocupado@desarrollosocial.gob.cl", attempts=outbox.MAX_ATTEMPTS - 2)
    send()
    msg.refresh_from_db()
    assert (msg.state, msg.attempts) == (State.QUEUED, outbox.MAX_ATTEMPTS - 1)


def test_a_failing_row_does_not_stop_the_rows_after_it(smtp_server):
    smtp_server.inbox.rcpt_replies["ocupado@desarrollosocial.gob.cl"] = (
        "451 4.3.0 Intente más tarde"
    )
    queue(to="ocupado@desarrollosocial.gob.cl", next_attempt_at=ago(5))
    for i in range(3):
        queue(to=f"persona{i}@desarrollosocial.gob.cl", next_attempt_at=ago(1))
    assert send() == "sent 3, failed 1, still queued 1"
    assert len(smtp_server.messages) == 3


def test_a_connection_the_server_dropped_is_reopened_for_the_next_row(smtp_server):
    # 421 makes the client close the session; reusing it would fail every later row.
    smtp_server.inbox.data_replies["corta@desarrollosocial.gob.cl"] = (
        "421 4.3.2 Cerrando la conexión"
    )
    queue(to="corta@desarrollosocial.gob.cl", next_attempt_at=ago(5))
    queue(next_attempt_at=ago(1))
    assert send() == "sent 1, failed 1, still queued 1"
    assert [m.rcpt_tos for m in smtp_server.messages] == [["alicia@desarrollosocial.gob.cl"]]


def test_the_failure_is_logged_with_the_row_id_and_without_the_address(smtp_server, caplog):
    smtp_server.inbox.rcpt_replies["ocupado@desarrollosocial.gob.cl"] = (
        "451 4.3.0 Intente más tarde"
    )
    msg = queue(to="ocupado@desarrollosocial.gob.cl")
    send()
    ours = "\n".join(
        caplog.handler.format(r) for r in caplog.records if r.name.startswith("tickets")
    )
    assert f"message {msg.pk} attempt 1 failed (SMTPRecipientsRefused)" in ours
    assert "ocupado" not in ours


# --- limits of one run ---------------------------------------------------------------------------
def test_limit_stops_the_run_after_that_many_messages(smtp_server):
    for i in range(5):
        queue(to=f"persona{i}@desarrollosocial.gob.cl")
    assert send("--limit", "2") == "sent 2, failed 0, still queued 3"
    # Never claimed: due at once, no attempt spent.
    assert (
        list(OutgoingEmail.objects.filter(state=State.QUEUED).values_list("attempts")) == [(0,)] * 3
    )
    assert send() == "sent 3, failed 0, still queued 0"


def fake_clock(monkeypatch, step):
    ticks = iter(range(0, 10_000, step))
    monkeypatch.setattr(outbox, "monotonic", lambda: next(ticks))


def test_max_seconds_stops_the_run_before_the_next_cron_run(smtp_server, monkeypatch):
    for i in range(3):
        queue(to=f"persona{i}@desarrollosocial.gob.cl")
    fake_clock(monkeypatch, step=30)  # every message seems to take half a minute
    assert send() == "sent 1, failed 0, still queued 2"


def test_rows_claimed_but_not_sent_when_time_ran_out_are_due_again_at_once(
    smtp_server, monkeypatch
):
    for i in range(3):
        queue(to=f"persona{i}@desarrollosocial.gob.cl", next_attempt_at=ago(3 - i))
    fake_clock(monkeypatch, step=30)
    assert send() == "sent 1, failed 0, still queued 2"
    # The batch claimed all three; the two not sent were given back, not left to the lease.
    left = OutgoingEmail.objects.filter(state=State.QUEUED)
    assert list(left.values_list("attempts", flat=True)) == [0, 0]
    assert all(m.next_attempt_at <= timezone.now() for m in left)
    fake_clock(monkeypatch, step=1)
    assert send() == "sent 2, failed 0, still queued 0"
    assert set(OutgoingEmail.objects.values_list("state", "attempts")) == {(State.SENT, 1)}


def test_rows_claimed_when_the_server_went_away_mid_batch_are_due_again_at_once(
    smtp_server, monkeypatch
):
    smtp_server.inbox.data_replies["corta@desarrollosocial.gob.cl"] = (
        "421 4.3.2 Cerrando la conexión"
    )
    cut = queue(to="corta@desarrollosocial.gob.cl", next_attempt_at=ago(5))
    for i in range(2):
        queue(to=f"persona{i}@desarrollosocial.gob.cl", next_attempt_at=ago(1))
    real_get_connection = outbox.get_connection
    opened = []

    def get_connection(**kwargs):
        # The first session ends with the 421; the server is gone when the next opens.
        opened.append(kwargs)
        if len(opened) > 1:
            kwargs["port"] = free_port()
        return real_get_connection(**kwargs)

    monkeypatch.setattr(outbox, "get_connection", get_connection)
    assert send().startswith(
        "sent 0, failed 1, still queued 3; mail server unreachable (ConnectionRefusedError"
    )
    cut.refresh_from_db()
    assert (cut.state, cut.attempts) == (State.QUEUED, 1)
    others = OutgoingEmail.objects.exclude(pk=cut.pk)
    assert set(others.values_list("state", "attempts", "last_error")) == {(State.QUEUED, 0, "")}
    assert all(m.next_attempt_at <= timezone.now() for m in others)


def test_within_max_seconds_the_run_sends_everything_due(smtp_server, monkeypatch):
    for i in range(3):
        queue(to=f"persona{i}@desarrollosocial.gob.cl")
    fake_clock(monkeypatch, step=1)
    assert send() == "sent 3, failed 0, still queued 0"


# --- statements -----------------------------------------------------------------------------------
@pytest.mark.parametrize("rows", [2, 5])
def test_sending_a_new_tickets_rows_after_commit_takes_two_statements_however_many(
    db, django_assert_num_queries, rows
):
    ids = [fresh(to=f"persona{i}@desarrollosocial.gob.cl").pk for i in range(rows)]
    with django_assert_num_queries(2):  # the claim, and the record of the sent rows
        run = outbox.send_ids(ids)
    assert run.sent == rows
    assert set(OutgoingEmail.objects.values_list("state", "attempts")) == {(State.SENT, 1)}


def test_a_failed_row_costs_one_statement_more(db, django_assert_num_queries):
    ids = [fresh(to="persona@desarrollosocial.gob.cl").pk, fresh(to="no es una dirección").pk]
    with django_assert_num_queries(3):
        run = outbox.send_ids(ids)
    assert (run.sent, run.failed) == (1, 1)


def test_cron_spends_two_statements_a_batch_not_two_a_row(db):
    def statements(rows):
        OutgoingEmail.objects.all().delete()
        for i in range(rows):
            fresh(to=f"persona{i}@desarrollosocial.gob.cl")
        with CaptureQueriesContext(connection) as ctx:
            assert send() == f"sent {rows}, failed 0, still queued 0"
        return len(ctx) - 1  # the summary's count

    # Look, claim, record; a full batch also claims once more to find nothing left.
    assert statements(2) == 3
    assert statements(outbox.BATCH * 2) == 1 + 2 * 2 + 1


def test_with_the_server_down_the_after_commit_sender_claims_nothing(
    smtp_down, django_assert_num_queries
):
    ids = [queue().pk, queue().pk]
    with django_assert_num_queries(0):
        run = outbox.send_ids(ids)
    assert run.unreachable.startswith("ConnectionRefusedError")
    assert set(OutgoingEmail.objects.values_list("state", "attempts")) == {(State.QUEUED, 0)}


@pytest.mark.parametrize("args", [["--limit", "0"], ["--max-seconds", "0"]])
def test_it_refuses_a_limit_that_would_send_nothing(db, args):
    with pytest.raises(CommandError):
        send(*args)


# --- admin ---------------------------------------------------------------------------------------
def test_the_outbox_list_shows_how_many_messages_failed(admin_client):
    queue(state=State.FAILED, last_error="SMTPRecipientsRefused: 550 buzón inexistente")
    queue()
    html = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "Correos salientes · 1 fallido" in html
    assert "SMTPRecipientsRefused: 550 buzón inexistente" in html


def test_without_failures_the_outbox_list_title_is_plain(admin_client):
    queue(state=State.SENT)
    html = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "<h1>Correos salientes</h1>" in html
    assert "fallido" not in html


def test_the_outbox_list_filters_by_state(admin_client):
    queue(subject="Uno que falló", state=State.FAILED)
    queue(subject="Uno enviado", state=State.SENT)
    html = admin_client.get(reverse(CHANGELIST), {"state__exact": "failed"}).content.decode()
    assert "Uno que falló" in html
    assert "Uno enviado" not in html


def test_the_outbox_list_links_each_message_to_its_ticket(admin_client, ticket):
    html = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert f'href="{reverse("admin:tickets_ticket_change", args=[ticket.pk])}"' in html


def test_the_outbox_list_does_not_query_once_per_row(admin_client, db):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(reverse(CHANGELIST)).status_code == 200
        return len(ctx)

    make_ticket()
    queries()  # the side bar's app list is read once a minute per process: this reads it
    few = queries()
    for _ in range(5):
        make_ticket()
    assert queries() == few


def test_a_message_is_shown_read_only_with_both_bodies(admin_client):
    msg = OutgoingEmail.objects.create(
        kind="test",
        to="alicia@desarrollosocial.gob.cl",
        subject="Prueba",
        body_text="Texto del aviso",
        body_html="<p>Hola</p>",
    )
    r = admin_client.get(reverse("admin:tickets_outgoingemail_change", args=[msg.pk]))
    html = r.content.decode()
    assert r.status_code == 200
    assert "Texto del aviso" in html
    assert "&lt;p&gt;Hola&lt;/p&gt;" in html
    assert 'name="_save"' not in html


def test_nobody_adds_or_deletes_a_message_by_hand(admin_client):
    msg = queue()
    assert admin_client.get(reverse("admin:tickets_outgoingemail_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:tickets_outgoingemail_delete", args=[msg.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert OutgoingEmail.objects.filter(pk=msg.pk).exists()


def test_resend_queues_failed_and_sent_messages_again(admin_client, smtp_server):
    failed = queue(
        to="persona1@desarrollosocial.gob.cl",
        state=State.FAILED,
        attempts=outbox.MAX_ATTEMPTS,
        last_error="451",
    )
    sent = queue(
        to="persona2@desarrollosocial.gob.cl", state=State.SENT, attempts=1, sent_at=ago(60)
    )
    r = admin_client.post(
        reverse(CHANGELIST),
        {"action": "resend", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
    )
    assert "2 correos quedaron en cola" in r.content.decode()
    for msg in (failed, sent):
        msg.refresh_from_db()
        assert (msg.state, msg.attempts) == (State.QUEUED, 0)
        assert msg.next_attempt_at <= timezone.now()
    assert send() == "sent 2, failed 0, still queued 0"


def test_resend_leaves_a_message_that_is_still_waiting_alone(admin_client):
    later = timezone.now() + timedelta(minutes=30)
    waiting = queue(attempts=3, next_attempt_at=later)
    admin_client.post(reverse(CHANGELIST), {"action": "resend", "_selected_action": [waiting.pk]})
    waiting.refresh_from_db()
    assert (waiting.state, waiting.attempts, waiting.next_attempt_at) == (State.QUEUED, 3, later)
