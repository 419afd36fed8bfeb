"""The blank new-ticket form, rendered once per language and filled in per request.

The blank form is the same page for everyone but for four values: the CSRF token,
the captcha's key (its hidden input and its image and audio addresses), the
submission token that makes a double POST one ticket, and the visitor's IP address,
which the form says it records (``filled_in``: a marker in each place, a captcha
pick and four string replacements per request).

Only the plain GET is served this way: a form with errors, a page with a message
to show, or any query string goes through the template as before.
"""

import uuid
from collections.abc import Callable

from captcha.conf import settings as captcha_settings
from captcha.models import CaptchaStore
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.html import escape
from django.utils.translation import get_language

from tickets import reference_choices
from tickets.views import filled_in

CAPTCHA_MARK = filled_in.new_mark()
IP_MARK = filled_in.new_mark()
SUBMISSION_MARK = uuid.uuid4()
# As long as the category and region lists it shows are kept.
PAGE_SECONDS = reference_choices.CHOICES_SECONDS


def new_captcha_key() -> str:
    """What the captcha widget would pick itself (captcha.fields.BaseCaptchaTextInput)."""
    if captcha_settings.CAPTCHA_GET_FROM_POOL:
        return CaptchaStore.pick()
    return CaptchaStore.generate_key()


def page(request: HttpRequest, ip: str, render: Callable[[bool], HttpResponse]) -> HttpResponse:
    """The blank form for this request. ``render(marked)`` renders the template, with the
    markers in place of the per-request values when ``marked``."""
    key = f"blank-form:{reference_choices.generation()}:{get_language()}:{request.path}"
    values = {
        filled_in.CSRF_MARK: lambda: get_token(request),
        CAPTCHA_MARK: new_captcha_key,
        str(SUBMISSION_MARK): lambda: str(uuid.uuid4()),
        IP_MARK: lambda: escape(ip),
    }
    return filled_in.page(key, render, values, PAGE_SECONDS)
