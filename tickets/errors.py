"""Error pages that render without the database: no request context, no queries."""

import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseServerError
from django.template import loader
from django.utils.safestring import mark_safe

from tickets.snapshots import read_contacts_snapshot

log = logging.getLogger(__name__)


def _context():
    # The fragment is our own (autoescaped) template's output, written by
    # write_contacts_snapshot: bandit's mark_safe warnings do not apply.
    return {
        "contacts_html": mark_safe(read_contacts_snapshot()),  # nosec B308, B703
        "site_name": settings.SITE_NAME,
    }


def server_error(request, template_name="500.html"):
    # Rendered without the request, as Django's own handler does: a context
    # processor could touch the session or the user, and so the database.
    try:
        body = loader.get_template(template_name).render(_context())
    except Exception:
        log.exception("the 500 page itself failed to render")
        return HttpResponseServerError(
            "<h1>Error del servidor (500)</h1>", content_type="text/html"
        )
    return HttpResponseServerError(body)


def service_unavailable(request=None):
    """The maintenance page, for a view or middleware that knows the service is down."""
    response = HttpResponse(loader.get_template("503.html").render(_context()), status=503)
    response["Retry-After"] = "300"
    return response
