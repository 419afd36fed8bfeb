"""/healthz for load balancers, Docker's HEALTHCHECK and monitoring."""

from django.db import connection
from django.http import HttpResponse
from django.utils.log import log_response

PATH = "/healthz"
NO_STORE = {"Cache-Control": "no-store"}


def healthz(request):
    """200 when the database answers, 503 when not; no session, no template."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        response = HttpResponse(
            "database unavailable\n", status=503, content_type="text/plain", headers=NO_STORE
        )
        # Django's one "Service Unavailable" line, plus the exception's class
        # (enough for the operator; its message may hold a DSN).
        log_response(
            "%s: %s (%s)",
            response.reason_phrase,
            request.path,
            type(exc).__name__,
            response=response,
            request=request,
        )
        return response
    return HttpResponse("ok\n", content_type="text/plain", headers=NO_STORE)


class HealthCheckMiddleware:
    """Answers /healthz before any other middleware runs.

    A load balancer or Docker probes over plain HTTP, by IP address: ahead of
    SecurityMiddleware and CommonMiddleware the probe is neither redirected to
    HTTPS nor refused for its Host header, and it never touches the session.
    It reveals only whether the database answers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == PATH:
            return healthz(request)
        return self.get_response(request)
