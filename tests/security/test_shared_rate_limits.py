"""Rate limits shared by every worker: the database store and how production picks it.

Several gunicorn workers and servers each counting in their own memory would let
every limit through once per process; with DEBUG=0 and no CACHE_URL the counters are
rows of one table, each hit a single atomic upsert. The same limits through 4 real
gunicorn workers: tests/test_production.py.
"""

import threading
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection, connections
from django.utils import timezone

from tests.conftest import make_ticket
from tests.security.helpers import LOOKUP, submit
from tests.test_settings import production_env, read_settings, settings_of  # noqa: F401
from tickets import ratelimit, tracking
from tickets.models import RateLimitCounter, Ticket

ATTACKER = "203.0.113.66"
NEIGHBOUR = "198.51.100.7"
DATABASE_CACHE = "django.core.cache.backends.db.DatabaseCache"


@pytest.fixture
def database_store(settings, db):
    """Production without CACHE_URL: the database cache, and the counters' table."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": DATABASE_CACHE, "LOCATION": "mesaayuda_cache"},
    }
    settings.RATELIMIT_STORE = "database"
    cache.clear()
    yield
    cache.clear()


# --- which store ------------------------------------------------------------------------------
def test_production_without_cache_url_counts_in_the_database(settings_of):  # noqa: F811
    caches, store = settings_of(production_env(), "CACHES", "RATELIMIT_STORE")
    assert caches["default"]["BACKEND"] == DATABASE_CACHE
    assert caches["default"]["LOCATION"] == "mesaayuda_cache"
    assert store == "database"


def test_a_database_cache_url_counts_in_the_table_too(settings_of):  # noqa: F811
    env = production_env(CACHE_URL="dbcache://otra_cache")
    caches, store = settings_of(env, "CACHES", "RATELIMIT_STORE")
    assert caches["default"]["LOCATION"] == "otra_cache"
    assert store == "database"


def test_another_cache_url_counts_in_that_cache(settings_of):  # noqa: F811
    # Redis in production (its INCR is atomic; tests/security/test_rate_limits.py runs the
    # limits on a real one); any other CACHE_URL is the operator's choice.
    env = production_env(CACHE_URL="locmemcache://elegida")
    caches, store = settings_of(env, "CACHES", "RATELIMIT_STORE")
    assert caches["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert store == "cache"


def test_development_counts_in_its_own_memory(settings_of):  # noqa: F811
    caches, store = settings_of({"DEBUG": "1"}, "CACHES", "RATELIMIT_STORE")
    assert caches["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert store == "cache"


def test_the_database_cache_table_comes_with_the_migrations(database_store):
    # What the failed-look-up alert relies on: one add() wins per window.
    assert cache.add("rl:lookup_global:alerted:1", 1, timeout=60)
    assert not cache.add("rl:lookup_global:alerted:1", 1, timeout=60)


# --- counting in the database -------------------------------------------------------------------
def test_each_hit_gets_the_next_number_and_peeking_counts_nothing(database_store, settings):
    settings.RATELIMIT_SUBMIT = "5/h"
    assert [ratelimit.hit("submit", ATTACKER).count for _ in range(3)] == [1, 2, 3]
    assert ratelimit.peek("submit", ATTACKER).count == 3
    assert ratelimit.peek("submit", NEIGHBOUR).count == 0
    assert RateLimitCounter.objects.count() == 1


def test_the_table_holds_no_address_in_clear(database_store):
    ratelimit.hit("confirmation_email", "alicia@desarrollosocial.gob.cl")
    ratelimit.hit("submit", ATTACKER)
    keys = list(RateLimitCounter.objects.values_list("key", flat=True))
    assert len(keys) == 2 and not any("alicia" in k or "203.0" in k for k in keys)


def test_a_new_window_starts_from_one_and_expired_rows_go(database_store, settings):
    settings.RATELIMIT_SUBMIT = "2/h"
    with time_machine.travel(timezone.now(), tick=False) as clock:
        ratelimit.hit("submit", ATTACKER)
        ratelimit.hit("submit", ATTACKER)
        assert ratelimit.hit("submit", ATTACKER).exceeded
        clock.shift(timedelta(hours=2))
        window = ratelimit.hit("submit", ATTACKER)
        assert (window.count, window.exceeded) == (1, False)
    assert RateLimitCounter.objects.count() == 1


def test_the_submission_limit_holds_exactly(client, database_store, settings):
    settings.RATELIMIT_SUBMIT = "3/h"
    for _ in range(3):
        assert submit(client, ip=ATTACKER, submission_token=str(uuid.uuid4())).status_code == 302
    for _ in range(2):
        assert submit(client, ip=ATTACKER, submission_token=str(uuid.uuid4())).status_code == 429
    assert Ticket.objects.count() == 3
    assert submit(client, ip=NEIGHBOUR, submission_token=str(uuid.uuid4())).status_code == 302


def test_the_failed_look_up_budget_holds_exactly(client, database_store, settings):
    settings.RATELIMIT_LOOKUP = "3/h"
    for _ in range(3):
        r = client.post(LOOKUP, {"tracking_id": tracking.new_tracking_id()}, REMOTE_ADDR=ATTACKER)
        assert r.status_code == 200
    r = client.post(LOOKUP, {"tracking_id": tracking.new_tracking_id()}, REMOTE_ADDR=ATTACKER)
    assert r.status_code == 429
    r = client.post(LOOKUP, {"tracking_id": tracking.new_tracking_id()}, REMOTE_ADDR=NEIGHBOUR)
    assert r.status_code == 200


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL's concurrent writers (SQLite serialises them): run with DATABASE_URL=postgres://…",
)


def test_a_requester_opening_their_ticket_often_never_meets_the_limit(
    client, database_store, settings
):
    # Every look-up holds a place while it is answered and gives it back when it found
    # its ticket: in the database store too, or the 31st view of one's own ticket is a 429.
    settings.RATELIMIT_LOOKUP = "5/h"
    ticket = make_ticket()
    for _ in range(12):
        assert client.get(ticket.get_absolute_url()).status_code == 200
    assert client.get(f"/ticket/{tracking.new_tracking_id()}/").status_code == 404


@needs_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_hits_never_lose_a_count(settings):
    settings.RATELIMIT_STORE = "database"
    settings.RATELIMIT_SUBMIT = "1000/h"
    threads, per_thread = 10, 20
    start = threading.Barrier(threads)
    seen, errors = [], []

    def hammer():
        try:
            start.wait(timeout=30)
            for _ in range(per_thread):
                seen.append(ratelimit.hit("submit", ATTACKER).count)
        except Exception as exc:  # collected, so one failure does not hang the others
            errors.append(repr(exc))
        finally:
            connections.close_all()

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=120)
    assert errors == []
    # Every hit saw its own number: none was counted twice or lost.
    assert sorted(seen) == list(range(1, threads * per_thread + 1))
    assert ratelimit.peek("submit", ATTACKER).count == threads * per_thread
