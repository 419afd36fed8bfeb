"""Rate limits on the shared cache: fixed-window counters.

A window is ``period`` seconds long and numbered from the epoch; its counter is
created with ``cache.add`` and advanced with ``cache.incr``, both atomic in Redis
(production: ``CACHE_URL=redis://…``, shared by every app server) and in the
local-memory cache (development: one counter per process). The race we accept:
at a window's edge a client may get up to twice its limit in ``period`` seconds.

Limits are settings (``RATELIMIT_<SCOPE> = "5/h"``, see settings.py), read at call
time so tests can change them, and parsed once per distinct value.

Scopes:
  submit, reply, forgotten_id      per IP, every POST counts        ``@ratelimit``
  lookup                           per IP, failed look-ups count    ``@throttle_failed_lookups``
  confirmation_email,
  forgotten_id_email               per recipient address            ``allow()``
  lookup_global                    every failed look-up, all IPs    ``failed_lookup()``

Counters are keyed by a hash of the IP or address, so the cache holds no
personal data in clear.
"""

import functools
import hashlib
import logging
import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from tickets.clientip import client_ip

log = logging.getLogger(__name__)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds


@dataclass(frozen=True)
class Window:
    scope: str
    count: int
    rate: Rate
    reset_at: float  # epoch seconds when the window ends

    @property
    def exceeded(self) -> bool:
        return self.count > self.rate.limit

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))


@functools.lru_cache(maxsize=64)
def parse_rate(text: str) -> Rate:
    """ "5/h" → 5 per hour; "100/15m" → 100 per 15 minutes. Units: s, m, h, d."""
    match = _RATE.match(str(text))
    if not match:
        raise ImproperlyConfigured(
            f"Invalid rate limit {text!r}: expected e.g. '5/h', '100/15m', '1000/d'."
        )
    limit, multiplier, unit = match.groups()
    period = int(multiplier or 1) * _UNITS[unit]
    if period <= 0:
        raise ImproperlyConfigured(f"Invalid rate limit {text!r}: the period must be positive.")
    return Rate(int(limit), period)


def rate_for(scope: str) -> Rate:
    return parse_rate(getattr(settings, f"RATELIMIT_{scope.upper()}"))


def _key(scope: str, ident: str, rate: Rate, index: int) -> str:
    digest = hashlib.sha256(f"{scope}:{ident}".encode()).hexdigest()[:32]
    return f"rl:{scope}:{rate.period}:{digest}:{index}"


def _window(scope: str, ident: str, *, count: bool) -> Window:
    rate = rate_for(scope)
    now = time.time()
    index = int(now // rate.period)
    key = _key(scope, ident or "-", rate, index)
    reset_at = (index + 1) * rate.period
    if count:
        # The key outlives its window a little so a slow request still finds it.
        cache.add(key, 0, timeout=rate.period + 60)
        try:
            value = cache.incr(key)
        except ValueError:
            # Evicted between add and incr: start again from this request.
            cache.set(key, 1, timeout=rate.period + 60)
            value = 1
    else:
        value = cache.get(key, 0)
    return Window(scope, int(value), rate, reset_at)


def hit(scope: str, ident: str) -> Window:
    """Count one event for ``ident`` in ``scope`` and return the window it fell in."""
    return _window(scope, ident, count=True)


def peek(scope: str, ident: str) -> Window:
    """The current window without counting anything."""
    return _window(scope, ident, count=False)


def mask_address(address: str) -> str:
    """An e-mail address as a log line may hold it: enough to recognise, not to harvest."""
    local, _at, domain = (address or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def allow(scope: str, address: str) -> bool:
    """Count one message to ``address``; False (and a log line) once over the limit."""
    window = hit(scope, address.strip().lower())
    if window.exceeded:
        log.warning(
            "rate limit: %s over %d per %ds for %s; message not queued",
            scope,
            window.rate.limit,
            window.rate.period,
            mask_address(address),
        )
        return False
    return True


def too_many_requests(request, window: Window):
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


def ratelimit(scope: str, *, per: str = "ip", methods=("POST",)):
    """Count every ``methods`` request per client IP; over the limit, answer 429."""
    if per != "ip":
        raise ValueError("only per='ip' is supported; use allow() for per-address limits")

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
def throttle_failed_lookups(view):
    """Refuse an IP over its failed look-up limit; count the view's 404s as failures.

    Views that answer a failure with a page of their own (the look-up form) call
    ``failed_lookup(request)`` themselves.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        window = peek("lookup", client_ip(request) or "-")
        if window.count >= window.rate.limit:
            return too_many_requests(request, window)
        try:
            return view(request, *args, **kwargs)
        except Http404:
            failed_lookup(request)
            raise

    return wrapped


def failed_lookup(request) -> bool:
    """Count a look-up that found nothing, per IP and against the global budget.

    Over the global budget every failed look-up, from anyone, is slowed by
    LOOKUP_ABUSE_DELAY seconds, and supervisors are alerted once per window.
    Returns True when this look-up was slowed.
    """
    hit("lookup", client_ip(request) or "-")
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
        from tickets import emails

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
