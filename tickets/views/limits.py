"""What the public views do with the counters of ``tickets.ratelimit``.

The decorators that answer 429, the page itself, and the slow-down plus alert when
failed tracking-ID look-ups from everyone pass the global budget. ``ratelimit`` only
counts; everything that renders, sleeps or mails lives here, next to the views.
"""

import functools
import hashlib
import logging
import math
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from tickets import emails
from tickets.clientip import client_ip
from tickets.ratelimit import Window, give_back, hit

log = logging.getLogger(__name__)


def too_many_requests(request: HttpRequest, window: Window) -> HttpResponse:
    """The Spanish 429 page, with Retry-After."""
    log.warning(
        "rate limit: %s over %d per %ds for ip=%s",
        window.scope,
        window.rate.limit,
        window.rate.period,
        client_ip(request) or "-",
    )
    ctx = {"minutes": max(1, math.ceil(window.retry_after / 60))}
    response = render(request, "429.html", ctx, status=429)
    response["Retry-After"] = str(window.retry_after)
    return response


def ratelimit(scope: str, *, methods: Iterable[str] = ("POST",)) -> Callable:
    """Count every ``methods`` request per client IP; over the limit, answer 429."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods:
                window = hit(scope, client_ip(request) or "-")
                if window.exceeded:
                    return too_many_requests(request, window)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# --- failed tracking-ID look-ups ----------------------------------------------------
# The attempt under way, on the request: the window its hit fell in, and whether it failed.
_ATTEMPT = "_lookup_attempt"


def throttle_failed_lookups(view: Callable) -> Callable:
    """Refuse an IP over its failed look-up limit; count the view's 404s as failures.

    Every request is counted before the view runs, with one atomic increment, and
    refused if that puts it over the limit; a request that finds its ticket gives its
    count back afterwards. Checking first and counting after the answer let fifty
    simultaneous guesses all pass a limit of thirty. The price: requests in flight
    hold a place, so one that would succeed can meet a 429 while the address is a
    few places from its limit.

    Views that answer a failure with a page of their own (the look-up form) call
    ``failed_lookup(request)`` themselves.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        window = hit("lookup", client_ip(request) or "-")
        if window.exceeded:
            return too_many_requests(request, window)
        attempt = {"window": window, "failed": False}
        setattr(request, _ATTEMPT, attempt)
        try:
            return view(request, *args, **kwargs)
        except Http404:
            failed_lookup(request)
            raise
        finally:
            if not attempt["failed"] and not attempt.get("returned"):
                give_back(window)

    return wrapped


def found_ticket(request: HttpRequest) -> None:
    """Give back the place a look-up took now rather than after the view.

    For a view that writes anyway (the access log): called inside the same
    transaction, the two writes share one commit, and each commit waits for the disk.
    """
    attempt = getattr(request, _ATTEMPT, None)
    if attempt is None or attempt["failed"] or attempt.get("returned"):
        return
    give_back(attempt["window"])
    attempt["returned"] = True


def failed_lookup(request: HttpRequest) -> bool:
    """Count a look-up that found nothing, per IP and against the global budget.

    Over the global budget every failed look-up, from anyone, is slowed by
    LOOKUP_ABUSE_DELAY seconds, and supervisors are alerted once per window.
    Returns True when this look-up was slowed.
    """
    attempt = getattr(request, _ATTEMPT, None)
    if attempt is None:
        # A view without @throttle_failed_lookups: count the failure now.
        hit("lookup", client_ip(request) or "-")
    elif attempt["failed"]:
        return False  # already counted (a view that both reports and raises 404)
    else:
        attempt["failed"] = True  # keep the place taken before the view ran
    window = hit("lookup_global", "all")
    if not window.exceeded:
        return False
    # One alert per window: the first request past the budget wins the add().
    if cache.add(
        f"rl:lookup_global:alerted:{int(window.reset_at)}", 1, timeout=window.rate.period + 60
    ):
        log.error(
            "rate limit: %d failed tracking-ID look-ups in the current window (budget %d per %ds); "
            "slowing failed look-ups and alerting supervisors",
            window.count,
            window.rate.limit,
            window.rate.period,
        )
        started = datetime.fromtimestamp(window.reset_at - window.rate.period, tz=UTC)
        emails.lookup_abuse_alert(
            failed=window.count,
            budget=window.rate.limit,
            period_minutes=window.rate.period // 60,
            window_start=timezone.localtime(started),
        )
    delay = settings.LOOKUP_ABUSE_DELAY
    if delay > 0:
        time.sleep(delay)
    return True


# --- admin log-ins ---------------------------------------------------------------------
# Longer than any password check; a crashed worker's claim lapses after it.
LOGIN_CLAIM_SECONDS = 30


def one_login_at_a_time(view: Callable) -> Callable:
    """Let one log-in attempt per username and IP be checked at a time; answer 429 to a second.

    django-axes checks the failure count before the password and records the failure
    after it: attempts sent together all pass the check, so a burst would get more
    guesses than AXES_FAILURE_LIMIT while the slow password hashes run. Claimed with
    an atomic ``cache.add``, each attempt finds the count its predecessor left.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        who = f"{request.POST.get('username', '')}|{client_ip(request) or '-'}"
        key = "login:" + hashlib.sha256(who.encode()).hexdigest()[:32]
        if not cache.add(key, 1, timeout=LOGIN_CLAIM_SECONDS):
            log.warning("admin log-in: attempt refused while another one from the same pair runs")
            response = render(request, "429.html", {"minutes": 1}, status=429)
            response["Retry-After"] = "1"
            return response
        try:
            return view(request, *args, **kwargs)
        finally:
            cache.delete(key)

    return wrapped
