"""The blank new-ticket form, rendered once per language and filled in per request.

The blank form is the same page for everyone but for four values: the CSRF token,
the captcha's key (its hidden input and its image and audio addresses), the
submission token that makes a double POST one ticket, and the visitor's IP address,
which the form says it records. It is rendered with a marker in each of those
places, kept in the process's cache, and each request puts its own values in: a
captcha pick and four string replacements instead of rendering the layout and the
form's widgets (benchmarks/RESULTS.md).

Only the plain GET is served this way: a form with errors, a page with a message
to show, or any query string goes through the template as before.
"""

import uuid
from collections.abc import Callable

from captcha.conf import settings as captcha_settings
from captcha.models import CaptchaStore
from django.contrib import messages
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.html import escape
from django.utils.translation import get_language

from tickets import reference_choices

fragments = caches["fragments"]

# Each is text no real value can be: word characters only, because the captcha's
# image address takes \w+ and its audio address a slug.
CSRF_MARK = "blankformcsrfmark"
CAPTCHA_MARK = "blankformcaptchamark"
IP_MARK = "blankformipmark"
SUBMISSION_MARK = uuid.UUID("00000000-0000-4000-8000-0000b1a4f0a4")
# As long as the category and region lists it shows are kept.
PAGE_SECONDS = reference_choices.CHOICES_SECONDS


def servable(request: HttpRequest) -> bool:
    # len() loads the messages without marking them shown, unlike iterating them.
    return (
        request.method in ("GET", "HEAD")
        and not request.GET
        and not len(messages.get_messages(request))
    )


def new_captcha_key() -> str:
    """What the captcha widget would pick itself (captcha.fields.BaseCaptchaTextInput)."""
    if captcha_settings.CAPTCHA_GET_FROM_POOL:
        return CaptchaStore.pick()
    return CaptchaStore.generate_key()


def page(request: HttpRequest, ip: str, render: Callable[[bool], HttpResponse]) -> HttpResponse:
    """The blank form for this request. ``render(marked)`` renders the template, with the
    markers in place of the per-request values when ``marked``."""
    key = f"blank-form:{reference_choices.generation()}:{get_language()}:{request.path}"
    html = fragments.get(key)
    if html is None:
        html = render(True).content.decode()
        if not all(mark in html for mark in (CSRF_MARK, CAPTCHA_MARK, str(SUBMISSION_MARK))):
            # A template that lost a marker would hand one visitor's value to the next.
            return render(False)
        fragments.set(key, html, PAGE_SECONDS)
    return HttpResponse(
        html.replace(CSRF_MARK, get_token(request))
        .replace(CAPTCHA_MARK, new_captcha_key())
        .replace(str(SUBMISSION_MARK), str(uuid.uuid4()))
        .replace(IP_MARK, escape(ip))
    )
