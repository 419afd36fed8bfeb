"""Counters, the public access log and session saves commit without waiting for the disk; nothing else does."""

import threading
from datetime import timedelta
from unittest import mock

import psycopg
import pytest
from django.contrib.sessions.backends.base import CreateError
from django.db import connection, connections, transaction
from django.utils import timezone

from tests.conftest import make_ticket
from tickets import counters, ratelimit
from tickets.bookkeeping import bookkeeping
from tickets.models import AccessLog
from tickets.session_store import SessionStore

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="synchronous_commit is PostgreSQL's"
    ),
]


def synchronous_commit():
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_a_bookkeeping_transaction_does_not_wait_and_the_next_one_does():
    with bookkeeping():
        assert synchronous_commit() == "off"
    with transaction.atomic():
        assert synchronous_commit() == "on"


def test_inside_a_durable_transaction_bookkeeping_leaves_its_commit_durable():
    with transaction.atomic():
        with bookkeeping():
            AccessLog.objects.create(ticket_id=None, kind="public_view")
        assert synchronous_commit() == "on"


def test_a_counter_still_counts_and_another_connection_sees_it_at_once():
    assert ratelimit.hit("lookup", "198.51.100.7").count == 1
    assert ratelimit.hit("lookup", "198.51.100.7").count == 2
    seen = []
    # Django gives each thread its own connection: this one reads what was committed.
    thread = threading.Thread(
        target=lambda: (
            seen.append(ratelimit.peek("lookup", "198.51.100.7").count),
            connections.close_all(),
        )
    )
    thread.start()
    thread.join()
    assert seen == [2]


def test_a_ticket_page_view_leaves_its_access_log_row(client):
    t = make_ticket()
    assert client.get(f"/ticket/{t.tracking_id}/").status_code == 200
    assert AccessLog.objects.filter(ticket=t, kind="public_view").count() == 1
    assert ratelimit.peek("lookup", "127.0.0.1").count == 0


def statements_of(action) -> list[str]:
    """What reached PostgreSQL, one entry per round trip."""
    seen = []
    send = psycopg.ClientCursor.execute

    def record(cursor, query, *args, **kwargs):
        seen.append(str(query))
        return send(cursor, query, *args, **kwargs)

    with mock.patch.object(psycopg.ClientCursor, "execute", record):
        action()
    return seen


def test_a_session_save_does_not_wait_and_another_connection_reads_it():
    store = SessionStore()
    store["remembered"] = "1N7-XQE-RW26"
    saved = statements_of(store.save)
    assert len(saved) == 1
    assert saved[0].startswith("SET LOCAL synchronous_commit TO OFF; INSERT INTO")
    seen = []
    thread = threading.Thread(
        target=lambda: (
            seen.append(SessionStore(session_key=store.session_key).get("remembered")),
            connections.close_all(),
        )
    )
    thread.start()
    thread.join()
    assert seen == ["1N7-XQE-RW26"]


def test_ending_a_session_still_waits_for_the_disk():
    store = SessionStore()
    store["remembered"] = "1N7-XQE-RW26"
    store.save()
    deleted = statements_of(lambda: store.delete())
    assert not any("synchronous_commit" in sql for sql in deleted)
    assert not SessionStore().exists(store.session_key)


def test_a_database_counter_is_one_round_trip_that_does_not_wait():
    later = timezone.now() + timedelta(hours=1)
    assert counters.increment("rl:test", expires_at=later) == 1
    sent = statements_of(lambda: counters.increment("rl:test", expires_at=later))
    assert counters.current("rl:test") == 2
    assert len(sent) == 1
    assert sent[0].startswith("SET LOCAL synchronous_commit TO OFF; INSERT")
    assert synchronous_commit() == "on"  # the setting ended with that statement


def test_a_taken_session_key_is_refused_and_the_connection_goes_on():
    first = SessionStore()
    first["remembered"] = "1N7-XQE-RW26"
    first.save()
    second = SessionStore(session_key=first.session_key)
    second["remembered"] = "ZZZ-ZZZ-ZZZZ"
    with pytest.raises(CreateError):
        second.save(must_create=True)
    # The refused INSERT ended its own transaction: nothing is left aborted.
    assert SessionStore(session_key=first.session_key).get("remembered") == "1N7-XQE-RW26"
    assert synchronous_commit() == "on"


def test_bookkeeping_inside_bookkeeping_still_counts_once_per_hit():
    with bookkeeping(), bookkeeping():
        assert ratelimit.hit("lookup", "198.51.100.9").count == 1
        assert ratelimit.hit("lookup", "198.51.100.9").count == 2
