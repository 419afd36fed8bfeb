"""A burst of simultaneous wrong tracking IDs cannot get past the look-up limit (issue 22, 3).

The limit used to be checked before the view and the failure counted after it, with the
answer decided on the count read first, so fifty guesses sent at once all got an answer
(limit 30). Now each failure is counted atomically before it is answered, and the answer
is decided on that increment's own number.
"""

import http.client
import re
import threading
from urllib.parse import urlencode, urlparse

import pytest
from django.conf import settings as django_settings
from django.http import Http404, HttpResponse

from tests.conftest import make_ticket
from tickets import ratelimit, tracking
from tickets.views.limits import throttle_failed_lookups

ATTACKER = "203.0.113.66"
BURST = 50
LIMIT = 30


@pytest.fixture(scope="session")
def live_server(live_server_media_url, live_server):
    return live_server


@pytest.fixture(scope="session")
def live_server_media_url():
    # As in tests/browser/conftest.py: the live server cannot take MEDIA_URL = None.
    previous = django_settings.MEDIA_URL
    django_settings.MEDIA_URL = "/__media-not-served__/"
    yield
    django_settings.MEDIA_URL = previous


@pytest.fixture
def limit(settings):
    settings.RATELIMIT_LOOKUP = f"{LIMIT}/h"
    settings.LOOKUP_ABUSE_DELAY = 0


def fire_interleaved(rf, n, *, succeed=False):
    """``n`` look-ups, each arriving while every earlier one is still inside the view.

    The most unlucky interleaving threads can produce, made deterministic: request k's
    view sends request k+1 before answering. Returns the status of each answer.
    """
    answers = []

    def fire(k):
        if k == n:
            return
        entered = []

        @throttle_failed_lookups
        def view(request):
            entered.append(k)
            fire(k + 1)
            if succeed:
                return HttpResponse("su ticket")
            raise Http404

        try:
            answers.append(view(rf.post("/ticket/ver/", REMOTE_ADDR=ATTACKER)).status_code)
        except Http404:
            answers.append(404)
        if not entered:
            fire(k + 1)  # refused at the door: the burst goes on

    fire(0)
    return answers


def test_a_burst_of_wrong_ids_inside_the_view_at_once_gets_no_more_than_the_limit(rf, db, limit):
    answers = fire_interleaved(rf, BURST)
    assert answers.count(404) == LIMIT
    assert answers.count(429) == BURST - LIMIT


def test_a_burst_of_right_ids_uses_none_of_the_addresss_failed_look_ups(rf, db, limit):
    answers = fire_interleaved(rf, LIMIT, succeed=True)
    assert answers == [200] * LIMIT
    assert ratelimit.peek("lookup", ATTACKER).count == 0


def test_a_wrong_id_after_many_right_ones_is_still_answered(client, db, limit):
    t = make_ticket()
    for _ in range(LIMIT + 5):
        assert client.post("/ticket/ver/", {"tracking_id": t.tracking_id}).status_code == 302
    r = client.post("/ticket/ver/", {"tracking_id": tracking.new_tracking_id()})
    assert r.status_code == 200


# --- the same from outside: fifty connections against the running portal -----------
def _csrf(base):
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
    conn.request("GET", "/ticket/ver/")
    r = conn.getresponse()
    html = r.read().decode()
    cookie = re.search(r"csrftoken=([^;]+)", r.getheader("Set-Cookie")).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    conn.close()
    return cookie, token


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fifty_simultaneous_wrong_ids_from_one_address_meet_the_limit(live_server, limit):
    base = urlparse(live_server.url)
    cookie, token = _csrf(base)
    # The form page itself is no failed look-up.
    assert ratelimit.peek("lookup", "127.0.0.1").count == 0
    # Every connection is open (and its server thread waiting) before any request is sent.
    conns = [http.client.HTTPConnection(base.hostname, base.port, timeout=60) for _ in range(BURST)]
    for c in conns:
        c.connect()
    start = threading.Barrier(BURST)
    statuses = []

    def guess(conn):
        body = urlencode({"csrfmiddlewaretoken": token, "tracking_id": tracking.new_tracking_id()})
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie}",
        }
        start.wait()
        conn.request("POST", "/ticket/ver/", body, headers)
        r = conn.getresponse()
        r.read()
        statuses.append(r.status)
        conn.close()

    threads = [threading.Thread(target=guess, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == BURST
    assert statuses.count(200) == LIMIT  # the form again, "no encontramos un ticket"
    assert statuses.count(429) == BURST - LIMIT
