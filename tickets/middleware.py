from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string


def security_headers(get_response):
    """A Content-Security-Policy the pages satisfy (no inline scripts) and a body-size guard."""

    def middleware(request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > settings.MAX_REQUEST_SIZE:
            # Refused before Django reads a byte of the body.
            response = HttpResponse(
                render_to_string("413.html", {"site_name": settings.SITE_NAME}), status=413
            )
        else:
            response = get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CSP_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response

    return middleware
