"""Rate limits: per IP, per recipient address, and the global budget of failed look-ups."""

import logging
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import make_ticket
from tests.security.helpers import FORGOTTEN, LOOKUP, submit, without_csrf
from tickets import ratelimit, tracking
from tickets.models import OutgoingEmail, Ticket
from tickets.views import limits

ATTACKER = "203.0.113.66"
NEIGHBOUR = "198.51.100.7"


def random_ids(n):
    return [tracking.new_tracking_id() for _ in range(n)]


def look_up(client, tracking_id, ip=ATTACKER):
    return client.post(LOOKUP, {"tracking_id": tracking_id}, REMOTE_ADDR=ip)


def assert_429(r):
    html = r.content.decode()
    assert r.status_code == 429
    assert "<h1>Demasiadas solicitudes</h1>" in html
    assert "Espere" in html
    assert 0 < int(r["Retry-After"]) <= 3600


# --- the rates themselves -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,limit,period",
    [
        ("5/h", 5, 3600),
        ("100/15m", 100, 900),
        ("1000/d", 1000, 86400),
        (" 3 / 30s ", 3, 30),
        ("0/m", 0, 60),
    ],
)
def test_a_rate_reads_as_count_per_period(text, limit, period):
    assert ratelimit.parse_rate(text) == ratelimit.Rate(limit, period)


@pytest.mark.parametrize("text", ["", "5", "5/x", "h/5", "-1/h", "5/0h", "cinco/h"])
def test_a_malformed_rate_fails_loudly(text):
    with pytest.raises(ImproperlyConfigured):
        ratelimit.parse_rate(text)


def test_counters_are_exact_under_concurrent_hits(settings):
    settings.RATELIMIT_SUBMIT = "1000/h"
    threads = [
        threading.Thread(target=lambda: [ratelimit.hit("submit", "10.0.0.1") for _ in range(20)])
        for _ in range(10)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ratelimit.peek("submit", "10.0.0.1").count == 200
    assert ratelimit.peek("submit", "10.0.0.2").count == 0


def test_the_cache_holds_no_address_in_clear(settings):
    from django.core.cache import cache

    ratelimit.hit("confirmation_email", "alicia@desarrollosocial.gob.cl")
    keys = list(cache._cache.keys())
    assert keys and not any("alicia" in k for k in keys)


# --- failed look-ups per IP ---------------------------------------------------------------------
def test_guessing_tracking_ids_is_stopped_with_a_spanish_429(client, db, settings, caplog):
    settings.RATELIMIT_LOOKUP = "5/h"
    guesses = random_ids(6)
    with caplog.at_level(logging.WARNING, logger="tickets.views.limits"):
        for guess in guesses[:5]:
            r = look_up(client, guess)
            assert (
                r.status_code == 200
                and "No encontramos un ticket con esos datos" in r.content.decode()
            )
        r = look_up(client, guesses[5])
    assert_429(r)
    (line,) = [rec.getMessage() for rec in caplog.records if rec.name == "tickets.views.limits"]
    assert line == f"rate limit: lookup over 5 per 3600s for ip={ATTACKER}"
    assert not any(g in caplog.text or g.replace("-", "") in caplog.text for g in guesses)


def test_the_limit_holds_for_the_right_id_too_but_not_for_another_ip(client, db, ticket, settings):
    settings.RATELIMIT_LOOKUP = "3/h"
    for guess in random_ids(3):
        look_up(client, guess)
    assert look_up(client, ticket.tracking_id).status_code == 429
    r = look_up(client, ticket.tracking_id, ip=NEIGHBOUR)
    assert r.status_code == 302 and r["Location"] == f"/ticket/{ticket.tracking_id}/"


def test_successful_look_ups_do_not_count(client, db, ticket, settings):
    settings.RATELIMIT_LOOKUP = "3/h"
    for _ in range(10):
        assert look_up(client, ticket.tracking_id).status_code == 302


def test_the_limit_lifts_when_the_window_ends(client, db, settings):
    settings.RATELIMIT_LOOKUP = "2/h"
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for guess in random_ids(2):
            look_up(client, guess)
        assert look_up(client, "AAA-BBB-2222").status_code == 429
        traveller.shift(timedelta(hours=1, minutes=1))
        assert look_up(client, "AAA-BBB-2222").status_code == 200


def test_guessing_ticket_addresses_counts_too(client, db, ticket, settings):
    settings.RATELIMIT_LOOKUP = "4/h"
    for guess in random_ids(2):
        assert client.get(f"/ticket/{guess}/", REMOTE_ADDR=ATTACKER).status_code == 404
    assert client.get("/ticket/nada/", REMOTE_ADDR=ATTACKER).status_code == 404
    assert (
        client.get(f"/ticket/{ticket.tracking_id}/adjunto/999/", REMOTE_ADDR=ATTACKER).status_code
        == 404
    )
    assert_429(client.get(f"/ticket/{ticket.tracking_id}/", REMOTE_ADDR=ATTACKER))
    assert_429(
        client.post(
            f"/ticket/{ticket.tracking_id}/responder/", {"message": "x"}, REMOTE_ADDR=ATTACKER
        )
    )
    assert client.get(f"/ticket/{ticket.tracking_id}/", REMOTE_ADDR=NEIGHBOUR).status_code == 200


def test_reading_ones_own_ticket_many_times_is_never_limited(client, db, ticket, settings):
    settings.RATELIMIT_LOOKUP = "2/h"
    for _ in range(10):
        assert client.get(f"/ticket/{ticket.tracking_id}/", REMOTE_ADDR=ATTACKER).status_code == 200


# --- the same answer whatever was typed -------------------------------------------------------
def test_a_malformed_and_an_unknown_id_get_the_same_answer_after_the_same_work(client, db):
    def attempt(typed):
        with CaptureQueriesContext(connection) as queries:
            r = look_up(client, typed)
        html = without_csrf(r.content.decode()).replace(f'value="{typed}"', 'value="TYPED"')
        return r.status_code, html, len(queries)

    malformed = attempt("123")
    unknown = attempt("AAA-BBB-2222")
    assert malformed[0] == unknown[0] == 200
    assert malformed[1] == unknown[1]
    assert "No encontramos un ticket con esos datos" in unknown[1]
    assert "tiene 10 letras y números" in unknown[1]
    # The malformed one is looked up too: no early return for timing to show.
    assert malformed[2] == unknown[2] >= 1


def test_a_malformed_id_in_the_address_is_looked_up_like_any_other(client, db):
    with CaptureQueriesContext(connection) as malformed:
        assert client.get("/ticket/nada/").status_code == 404
    with CaptureQueriesContext(connection) as unknown:
        assert client.get("/ticket/AAA-BBB-2222/").status_code == 404
    assert [q["sql"].split("WHERE")[0] for q in malformed] == [
        q["sql"].split("WHERE")[0] for q in unknown
    ]
    assert any("tickets_ticket" in q["sql"] for q in malformed)


# --- the global budget of failed look-ups ----------------------------------------------------------
@pytest.fixture
def slept(monkeypatch):
    calls = []
    monkeypatch.setattr(limits.time, "sleep", calls.append)
    return calls


def test_past_the_global_budget_failed_look_ups_slow_down_and_supervisors_hear_once(
    client, db, settings, supervisor, slept, caplog
):
    settings.RATELIMIT_LOOKUP_GLOBAL = "3/h"
    settings.LOOKUP_ABUSE_DELAY = 1.5
    with caplog.at_level(logging.ERROR, logger="tickets.views.limits"):
        for i, guess in enumerate(random_ids(6)):
            # Spread over many addresses, as a botnet would: no per-IP limit helps.
            assert look_up(client, guess, ip=f"203.0.113.{i + 1}").status_code == 200
    assert slept == [1.5, 1.5, 1.5]
    (alert,) = OutgoingEmail.objects.filter(kind="lookup_abuse_alert")
    assert alert.to == "carla@desarrollosocial.gob.cl"
    assert "búsquedas fallidas" in alert.subject
    assert "hubo 4 búsquedas de tickets con un ID de seguimiento inexistente" in alert.body_text
    assert "límite de 3 cada 60 minutos" in alert.body_html
    assert len([r for r in caplog.records if r.name == "tickets.views.limits"]) == 1


def test_within_the_global_budget_nothing_slows_and_nobody_is_alerted(
    client, db, settings, supervisor, slept
):
    settings.RATELIMIT_LOOKUP_GLOBAL = "10/h"
    for i, guess in enumerate(random_ids(10)):
        look_up(client, guess, ip=f"203.0.113.{i + 1}")
    assert slept == []
    assert not OutgoingEmail.objects.filter(kind="lookup_abuse_alert").exists()


def test_successful_look_ups_never_wait_even_past_the_budget(client, db, ticket, settings, slept):
    settings.RATELIMIT_LOOKUP_GLOBAL = "1/h"
    look_up(client, "AAA-BBB-2222")
    look_up(client, "AAA-BBB-3333")
    assert slept == [settings.LOOKUP_ABUSE_DELAY]
    assert look_up(client, ticket.tracking_id).status_code == 302
    assert client.get(ticket.get_absolute_url()).status_code == 200
    assert len(slept) == 1


def test_without_supervisors_the_alert_goes_to_the_help_desk(client, db, settings, slept):
    settings.RATELIMIT_LOOKUP_GLOBAL = "1/h"
    settings.HELPDESK_NOTIFY_EMAIL = "mesa@desarrollosocial.gob.cl"
    for guess in random_ids(3):
        look_up(client, guess)
    assert list(OutgoingEmail.objects.values_list("kind", "to")) == [
        ("lookup_abuse_alert", "mesa@desarrollosocial.gob.cl")
    ]


def test_the_next_window_alerts_again(client, db, settings, slept):
    settings.RATELIMIT_LOOKUP_GLOBAL = "1/h"
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for guess in random_ids(3):
            look_up(client, guess, ip=NEIGHBOUR)
        traveller.shift(timedelta(hours=1))
        for guess in random_ids(3):
            look_up(client, guess, ip=NEIGHBOUR)
    assert OutgoingEmail.objects.filter(kind="lookup_abuse_alert").count() == 2


# --- submissions, replies, forgotten IDs per IP ---------------------------------------------------
def test_a_flood_of_submissions_from_one_ip_is_stopped(client, db, settings):
    settings.RATELIMIT_SUBMIT = "3/h"
    for _ in range(3):
        assert submit(client, ip=ATTACKER, submission_token=str(uuid.uuid4())).status_code == 302
    assert_429(submit(client, ip=ATTACKER, submission_token=str(uuid.uuid4())))
    assert Ticket.objects.count() == 3
    assert submit(client, ip=NEIGHBOUR, submission_token=str(uuid.uuid4())).status_code == 302
    # Reading the form is not counted.
    assert client.get("/ticket/nuevo/", REMOTE_ADDR=NEIGHBOUR).status_code == 200


def test_a_flood_of_replies_from_one_ip_is_stopped(client, db, ticket, settings):
    settings.RATELIMIT_REPLY = "2/h"
    url = f"/ticket/{ticket.tracking_id}/responder/"
    for i in range(2):
        assert (
            client.post(url, {"message": f"Mensaje {i}"}, REMOTE_ADDR=ATTACKER).status_code == 302
        )
    assert_429(client.post(url, {"message": "Otro"}, REMOTE_ADDR=ATTACKER))
    assert ticket.replies.count() == 2
    assert client.post(url, {"message": "Del vecino"}, REMOTE_ADDR=NEIGHBOUR).status_code == 302


def test_a_flood_of_forgotten_id_requests_from_one_ip_is_stopped(client, db, settings):
    settings.RATELIMIT_FORGOTTEN_ID = "2/h"
    for i in range(2):
        assert (
            client.post(FORGOTTEN, {"email": f"p{i}@example.org"}, REMOTE_ADDR=ATTACKER).status_code
            == 200
        )
    assert_429(client.post(FORGOTTEN, {"email": "p9@example.org"}, REMOTE_ADDR=ATTACKER))
    assert (
        client.post(FORGOTTEN, {"email": "p9@example.org"}, REMOTE_ADDR=NEIGHBOUR).status_code
        == 200
    )


# --- e-mails per recipient address -----------------------------------------------------------------
def test_forgotten_id_mail_stops_per_address_and_the_page_does_not_tell(
    client, db, settings, caplog
):
    settings.RATELIMIT_FORGOTTEN_ID_EMAIL = "2/d"
    make_ticket()
    pages = []
    with caplog.at_level(logging.WARNING, logger="tickets.ratelimit"):
        for i in range(4):
            # From four addresses: the per-address limit is what stops a mail bomb.
            r = client.post(
                FORGOTTEN,
                {"email": "alicia@desarrollosocial.gob.cl"},
                REMOTE_ADDR=f"203.0.113.{i + 1}",
            )
            pages.append((r.status_code, without_csrf(r.content.decode())))
    assert len(set(pages)) == 1 and pages[0][0] == 200
    assert (
        OutgoingEmail.objects.filter(
            kind="forgotten_ids", to="alicia@desarrollosocial.gob.cl"
        ).count()
        == 2
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "tickets.ratelimit"]
    assert (
        lines
        == [
            "rate limit: forgotten_id_email over 2 per 86400s for a***@desarrollosocial.gob.cl; message not queued"
        ]
        * 2
    )
    # Another address is unaffected.
    make_ticket(email="bruno@example.org")
    client.post(FORGOTTEN, {"email": "bruno@example.org"})
    assert OutgoingEmail.objects.filter(kind="forgotten_ids", to="bruno@example.org").count() == 1


def test_confirmations_stop_per_address_but_tickets_are_still_created(client, db, settings, caplog):
    settings.RATELIMIT_CONFIRMATION_EMAIL = "2/d"
    with caplog.at_level(logging.WARNING, logger="tickets.ratelimit"):
        for i in range(3):
            r = submit(
                client,
                ip=f"203.0.113.{i + 1}",
                email="victima@example.org",
                submission_token=str(uuid.uuid4()),
            )
            assert r.status_code == 302
    assert Ticket.objects.count() == 3
    assert OutgoingEmail.objects.filter(kind="ticket_created").count() == 2
    assert OutgoingEmail.objects.filter(kind="new_ticket_agents").count() == 3
    assert "confirmation_email over 2 per 86400s for v***@example.org" in caplog.text
    submit(client, email="otra@example.org", submission_token=str(uuid.uuid4()))
    assert OutgoingEmail.objects.filter(kind="ticket_created", to="otra@example.org").count() == 1


# --- the captcha --------------------------------------------------------------------------------------
def test_a_solved_captcha_cannot_be_replayed(client, db, strict_captcha):
    from captcha.models import CaptchaStore

    key = CaptchaStore.generate_key()
    answer = CaptchaStore.objects.get(hashkey=key).response
    assert submit(client, captcha_0=key, captcha_1=answer).status_code == 302
    r = submit(client, captcha_0=key, captcha_1=answer, submission_token=str(uuid.uuid4()))
    assert r.status_code == 200
    assert "El código no coincide con la imagen" in r.content.decode()
    assert Ticket.objects.count() == 1
    # A fresh captcha works.
    key = CaptchaStore.generate_key()
    answer = CaptchaStore.objects.get(hashkey=key).response
    assert (
        submit(
            client, captcha_0=key, captcha_1=answer, submission_token=str(uuid.uuid4())
        ).status_code
        == 302
    )


def test_the_test_mode_answer_is_refused_when_test_mode_is_off(client, db, strict_captcha):
    from captcha.models import CaptchaStore

    key = CaptchaStore.generate_key()
    assert submit(client, captcha_0=key, captcha_1="PASSED").status_code == 200
    assert not Ticket.objects.exists()


# --- Redis, as in production -------------------------------------------------------------------------
@pytest.fixture
def redis_cache(settings, tmp_path):
    """A loopback redis-server of our own, as the production cache."""
    pytest.importorskip("redis")
    binary = shutil.which("redis-server")
    if not binary:
        pytest.skip("redis-server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(  # noqa: S603 - a fixed binary and arguments
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        for _ in range(100):
            try:
                redis.Redis(port=port).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{port}/1",
            }
        }
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_limits_work_on_redis(client, db, settings, redis_cache):
    settings.RATELIMIT_LOOKUP = "3/h"
    for guess in random_ids(3):
        assert look_up(client, guess).status_code == 200
    assert_429(look_up(client, "AAA-BBB-2222"))
    assert look_up(client, "AAA-BBB-2222", ip=NEIGHBOUR).status_code == 200
    # Counted by INCR on the server, so every app server sees the same number.
    import redis

    keys = redis.Redis(port=redis_cache, db=1).keys("*rl:lookup:*")
    assert keys and not any(re.search(rb"203\.0\.113", k) for k in keys)
