"""The captcha read aloud: WCAG 1.1.1 accepts a CAPTCHA only with an alternative in
another modality. flite (Debian's package) speaks the digits of the same challenge
the image shows, so the answer is checked, once, by the same form field.

Our own view rather than django-simple-captcha's: it refuses an expired challenge
as the answer would be refused, plays in the page instead of downloading, is never
cached, and its flite runs are rate limited.
"""

import subprocess  # nosec B404: flite is run with a fixed argument list, no shell
import tempfile
from pathlib import Path

from captcha.models import CaptchaStore
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from tickets.captcha import spoken_text
from tickets.views.headers import private_page
from tickets.views.limits import ratelimit

FLITE_TIMEOUT = 10  # seconds; five digits take a few hundredths


@ratelimit("captcha_audio", methods=("GET",))
@private_page
@require_GET
def captcha_audio(request: HttpRequest, key: str) -> HttpResponse:
    if not settings.CAPTCHA_FLITE_PATH:
        raise Http404
    store = CaptchaStore.objects.filter(hashkey=key, expiration__gt=timezone.now()).first()
    if store is None:
        # As django-simple-captcha's image: 410 Gone, so that crawlers forget it.
        return HttpResponse(status=410)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "captcha.wav"
        subprocess.run(  # nosec B603: fixed executable from settings, text is digits only
            [settings.CAPTCHA_FLITE_PATH, "-t", spoken_text(store.challenge), "-o", str(path)],
            check=True,
            timeout=FLITE_TIMEOUT,
            capture_output=True,
        )
        wav = path.read_bytes()
    response = HttpResponse(wav, content_type="audio/wav")
    response["Content-Disposition"] = 'inline; filename="codigo.wav"'
    return response
