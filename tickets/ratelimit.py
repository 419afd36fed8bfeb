"""Rate limits on the shared cache: fixed-window counters.

A window is ``period`` seconds long and numbered from the epoch. Its counter is
created with ``cache.add`` and advanced with ``cache.incr``, both atomic in Redis
(``CACHE_URL=redis://…``, shared by every app server) and in the local-memory cache
(development: one counter per process); or, when the cache is the database (DEBUG=0
without CACHE_URL), it is a row advanced by one atomic upsert (``tickets.counters``),
shared by every worker and server on that database. The race we accept: at a
window's edge a client may get up to twice its limit in ``period`` seconds.

Limits are settings (``RATELIMIT_<SCOPE> = "5/h"``, see settings.py), read at call
time so tests can change them, and parsed once per distinct value.

This module only counts (``hit``, ``peek``, ``allow``). What the public site does
with a count (the decorators, the 429 page, the alert) is in ``tickets/views/limits.py``.

Scopes:
  submit, reply, forgotten_id      per IP, every POST counts        ``@ratelimit``
  lookup                           per IP, every failed look-up     ``@throttle_failed_lookups``
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

from tickets import counters
from tickets.addresses import mask_address, normalize_email

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
    if settings.RATELIMIT_STORE == "database":
        if count:
            expires_at = datetime.fromtimestamp(reset_at + 60, tz=UTC)
            value = counters.increment(key, expires_at=expires_at)
        else:
            value = counters.current(key)
    elif count:
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
    """Count one event for ``ident`` in ``scope`` and return the window it fell in.

    The count returned is this event's own place in the window (the increment is
    atomic): deciding on it, rather than on a ``peek`` before the work, is what keeps
    a burst of simultaneous requests from all slipping under the limit.
    """
    return _window(scope, ident, count=True)


def peek(scope: str, ident: str) -> Window:
    """The current window without counting anything."""
    return _window(scope, ident, count=False)


def allow(scope: str, address: str) -> bool:
    """Count one message to ``address``; False (and a log line) once over the limit."""
    window = hit(scope, normalize_email(address))
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
