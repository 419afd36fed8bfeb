"""The queue page, kept rendered for as long as what it shows has not changed.

An agent goes from the queue to a ticket and back many times an hour, and most of those
times nothing on the page has changed. Its queries still run on every view (the count
and the page's rows, every column they read, their region's and assignee's too),
and the page is kept under a key naming all it was rendered from: those rows, the count,
the query string, the agent (who, with which permissions), the language and the
reference lists' generation. So a ticket changed by anyone, through the verbs or not,
shows at the next view; what a hit saves is the template and the deadline column's
business-time arithmetic (benchmarks/RESULTS.md).

A page is kept for a minute at most because the deadline column counts business time
from now ("vence en 3 h hábiles"): its words can be up to a minute late, never more.
Each request puts its own CSRF token into the kept page (tickets/views/filled_in.py).
"""

import hashlib
import pickle  # nosec B403  # only dumps, of values read from our own database

from django.contrib import messages
from django.contrib.admin.views.main import ChangeList
from django.core.cache import caches
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import get_language

from tickets import admin_site, reference_choices
from tickets.views import filled_in

from .queue_table import queue_table_supported

KEEP_SECONDS = 60
pages = caches["queue_pages"]


def _values(obj) -> list:
    return [v for k, v in obj.__dict__.items() if k != "_state"]


def _state(request: HttpRequest, cl: ChangeList) -> str:
    rows = []
    for ticket in cl.result_list:
        rows.append(_values(ticket))
        rows.extend(_values(rel) for rel in ticket._state.fields_cache.values() if rel)
    what = (
        rows,
        cl.result_count,
        cl.full_result_count,
        request.get_full_path(),
        admin_site.who(request.user),
        get_language(),
        timezone.get_current_timezone_name(),
        reference_choices.generation(),
    )
    # pickle, not repr: five times faster on a page of rows, and as exact.
    return hashlib.blake2b(pickle.dumps(what, 5), digest_size=20).hexdigest()


def _keepable(request: HttpRequest, response) -> bool:
    """A plain view of the queue: no message waiting, no pop-up or field look-up."""
    return (
        request.method in ("GET", "HEAD")
        and isinstance(response, TemplateResponse)
        and not response.is_rendered
        and response.status_code == 200
        and "cl" in (response.context_data or {})
        and queue_table_supported(response.context_data["cl"])
        # len() loads the messages without marking them shown, unlike iterating them.
        and not len(messages.get_messages(request))
    )


def kept(request: HttpRequest, response):
    """``response`` (the changelist's, not yet rendered) with the kept page as its content."""
    if not _keepable(request, response):
        return response

    def render_marked() -> str:
        response.context_data["csrf_token"] = filled_in.CSRF_MARK
        try:
            return response.rendered_content
        finally:
            del response.context_data["csrf_token"]

    key = "queue:" + _state(request, response.context_data["cl"])
    values = {filled_in.CSRF_MARK: lambda: get_token(request)}
    html = filled_in.kept(key, render_marked, values, KEEP_SECONDS, cache=pages)
    if html is not None:
        # Admin's headers (never_cache, the content type) stay as they are.
        response.content = html
    return response
