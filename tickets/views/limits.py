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
from tickets.ratelimit import Window, hit, peek

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
# The look-up under way, on the request: its per-IP window once a failure was counted.
_ATTEMPT = "_lookup_attempt"


def throttle_failed_lookups(view: Callable) -> Callable:
    """Refuse an IP at its failed look-up limit; count the view's 404s as failures.

    Before the view, the IP's count is read: at the limit, every look-up is refused,
    right or wrong, so an address that used up its guesses cannot tell a real ID from
    a wrong one by the answer. A failure is counted after the view with one atomic
    increment, and the answer is decided on that increment's own number: fifty
    simultaneous wrong guesses against a limit of thirty get thirty "not found" and
    twenty 429s (deciding on the count read before the view let all fifty through).
    A look-up that finds its ticket writes nothing.

    Views that answer a failure with a page of their own (the look-up form) call
    ``failed_lookup(request)`` themselves.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        window = peek("lookup", client_ip(request) or "-")
        if window.count >= window.rate.limit:
            return too_many_requests(request, window)
        attempt = {"window": None}
        setattr(request, _ATTEMPT, attempt)
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            failed_lookup(request)
            if attempt["window"].exceeded:
                return too_many_requests(request, attempt["window"])
            raise
        if attempt["window"] is not None and attempt["window"].exceeded:
            return too_many_requests(request, attempt["window"])
        return response

    return wrapped


def failed_lookup(request: HttpRequest) -> bool:
    """Count a look-up that found nothing, per IP and against the global budget.

    Over the global budget every failed look-up, from anyone, is slowed by
    LOOKUP_ABUSE_DELAY seconds, and supervisors are alerted once per window.
    Returns True when this look-up was slowed.
    """
    attempt = getattr(request, _ATTEMPT, None)
    if attempt is not None and attempt["window"] is not None:
        return False  # already counted (a view that both reports and raises 404)
    window = hit("lookup", client_ip(request) or "-")
    if attempt is not None:
        attempt["window"] = window
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
