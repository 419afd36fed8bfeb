"""Response headers for pages that show a ticket or what a requester typed."""

import functools
from collections.abc import Callable

from django.http import HttpResponse

PRIVATE_CACHE_CONTROL = "private, no-store"


def mark_private(response: HttpResponse) -> HttpResponse:
    """Keep ``response`` out of shared proxies, the browser's cache and search engines.

    ``no-store`` also keeps the page out of the back-forward cache of a shared office
    computer in most browsers; ``X-Robots-Tag`` covers a crawler that follows a
    tracking link someone pasted in public, which a ``<meta>`` could not do for a
    download.
    """
    response["Cache-Control"] = PRIVATE_CACHE_CONTROL
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def private_page(view: Callable) -> Callable:
    """Every answer of ``view`` (the page, its errors, its redirects) is ``mark_private``."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        return mark_private(view(request, *args, **kwargs))

    return wrapped


def private_once_filled(view: Callable) -> Callable:
    """For a form page: ``mark_private`` except the blank form (a GET without a query string).

    The blank form shows nothing of anyone's, and left cacheable it lets the browser give
    back what was typed when the person returns to it with "Atrás" (from a 429 page, say).
    What comes back from a POST, or a form filled in from the address, is private.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.method in ("GET", "HEAD") and not request.GET:
            return response
        return mark_private(response)

    return wrapped
