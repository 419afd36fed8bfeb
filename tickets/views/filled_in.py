"""Pages rendered once with markers, kept, and filled in per request.

A page that is the same for everyone who asks for it but for a few values (the CSRF
token, a captcha's key…) is rendered with a marker in each of those places and kept
in the process's cache; each request puts its own values in. A few string
replacements instead of the layout, the forms' widgets and the translations
(benchmarks/RESULTS.md).

The markers are drawn at random when the process starts: text a visitor types into
a page (a ticket's message) cannot stand in for one.
"""

import secrets
from collections.abc import Callable

from django.contrib import messages
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse

fragments = caches["fragments"]


def new_mark() -> str:
    # Word characters only: a captcha's image address takes \w+ and its audio one a slug.
    return f"mark{secrets.token_hex(12)}"


CSRF_MARK = new_mark()


def servable(request: HttpRequest) -> bool:
    """A plain GET with nothing of its own to show: no query string, no message waiting.

    ``len()`` loads the messages without marking them shown, unlike iterating them.
    """
    return (
        request.method in ("GET", "HEAD")
        and not request.GET
        and not len(messages.get_messages(request))
    )


def kept(
    key: str,
    render_marked: Callable[[], str],
    values: dict[str, Callable[[], str]],
    timeout: int,
    cache=fragments,
) -> str | None:
    """The page kept under ``key``, each marker in ``values`` replaced by its value.

    ``render_marked()`` renders the page with the markers in place of the per-request
    values. None when the page lost a marker: it is never kept, since it would hand one
    visitor's value (their CSRF token) to the next; the caller renders it plainly.
    """
    html = cache.get(key)
    if html is None:
        html = render_marked()
        if not all(mark in html for mark in values):
            return None
        cache.set(key, html, timeout)
    for mark, value in values.items():
        html = html.replace(mark, value())
    return html


def page(
    key: str,
    render: Callable[[bool], HttpResponse],
    values: dict[str, Callable[[], str]],
    timeout: int,
) -> HttpResponse:
    """``kept`` for a view: ``render(marked)`` renders the page, marked or plain."""
    html = kept(key, lambda: render(True).content.decode(), values, timeout)
    return render(False) if html is None else HttpResponse(html)
