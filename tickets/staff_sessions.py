"""How long a staff session lasts: idle time, a working day, and a device reset.

Django ends a session on log-out (server-side: the row is deleted) and when the
password changes (the session carries a hash of it). This middleware adds what
Django lacks, for staff only (the public's sessions remember which tickets a browser
opened and hold no power):

- ``STAFF_SESSION_IDLE_MINUTES`` (30) without a request ends the session;
- ``STAFF_SESSION_MAX_HOURS`` (10) after signing in ends it whatever the activity;
- a reset of the user's second factor (``SecondFactorReset``) ends every session
  opened before it.

The session keeps when it signed in and when it was last seen, as epoch seconds;
"last seen" is rewritten at most once a minute, so most requests save nothing.
"""

import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext

from tickets.models import SecondFactorReset

SIGNED_IN_AT = "staff_signed_in_at"
SEEN_AT = "staff_seen_at"
RESET_CHECKED_AT = "staff_reset_checked_at"
# A second-factor reset ends the user's other sessions within this many seconds.
RESET_CHECK_SECONDS = 30
SEEN_RESOLUTION = 60  # seconds


def staff_sessions(get_response):
    def middleware(request):
        if is_staff_session(request):
            reason = ended(request)
            if reason:
                logout(request)
                messages.info(request, reason)
                if request.path.startswith(admin_prefix()):
                    query = urlencode({"next": request.get_full_path()})
                    return HttpResponseRedirect(f"{reverse('admin:login')}?{query}")
        response = get_response(request)
        if is_staff_session(request):
            stamp(request)
        return response

    return middleware


def admin_prefix() -> str:
    return "/" + settings.ADMIN_URL


def is_staff_session(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


def ended(request: HttpRequest) -> str | None:
    """Why this staff session is over, in words for the log-in page; None if it is not."""
    now = time.time()
    signed_in = request.session.get(SIGNED_IN_AT)
    seen = request.session.get(SEEN_AT)
    if seen is not None and now - seen > settings.STAFF_SESSION_IDLE_MINUTES * 60:
        return gettext("Su sesión se cerró tras %(minutes)d minutos sin actividad.") % {
            "minutes": settings.STAFF_SESSION_IDLE_MINUTES
        }
    if signed_in is not None and now - signed_in > settings.STAFF_SESSION_MAX_HOURS * 3600:
        return gettext("Su sesión se cerró porque duró más de %(hours)d horas.") % {
            "hours": settings.STAFF_SESSION_MAX_HOURS
        }
    # Looked up at most every RESET_CHECK_SECONDS, not on every page: resets are rare, and
    # the look-up was one query on every admin request (the ticket page's budget is 12).
    checked = request.session.get(RESET_CHECKED_AT, 0)
    if signed_in is not None and now - checked >= RESET_CHECK_SECONDS:
        if SecondFactorReset.objects.filter(
            user=request.user, reset_at__gt=datetime.fromtimestamp(signed_in, tz=UTC)
        ).exists():
            return gettext("Su sesión se cerró porque se restableció su segundo factor.")
        request.session[RESET_CHECKED_AT] = now
    return None


def signed_in(sender, request: HttpRequest, user, **kwargs) -> None:
    """Start the clocks of a session that has just signed in.

    A receiver of ``user_logged_in`` (connected in TicketsConfig.ready), as Django's own
    update_last_login is: it is the one hook every way of signing in goes through, and
    it runs before the session is saved, so signing in costs no extra write.
    """
    if user.is_staff and request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[SIGNED_IN_AT] = now
        request.session[SEEN_AT] = now
        # Nothing can have been reset since a moment ago.
        request.session[RESET_CHECKED_AT] = now


def stamp(request: HttpRequest) -> None:
    now = time.time()
    if SIGNED_IN_AT not in request.session:
        # A session from before this rule existed: count from now.
        request.session[SIGNED_IN_AT] = now
    if now - request.session.get(SEEN_AT, 0) >= SEEN_RESOLUTION:
        request.session[SEEN_AT] = now
