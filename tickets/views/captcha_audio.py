"""The captcha read aloud: WCAG 1.1.1 accepts a CAPTCHA only with an alternative in
another modality. espeak-ng (Debian's package), in the page's language (Latin American
Spanish or English), or else flite, in English, speaks the digits of the same challenge
the image shows, so the answer is checked, once, by the same form field.

Our own view rather than django-simple-captcha's: it refuses an expired challenge
as the answer would be refused, plays in the page instead of downloading, is never
cached, and its synthesiser runs are rate limited.
"""

import subprocess  # nosec B404: the synthesiser is run with a fixed argument list, no shell
import tempfile
from pathlib import Path

from captcha.models import CaptchaStore
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from tickets.captcha import spoken_text
from tickets.views.headers import private_page
from tickets.views.limits import ratelimit

SPEECH_TIMEOUT = 10  # seconds; five digits take a few hundredths


def speech_command(program: str, text: str, wav: str, language: str) -> list[str]:
    """The synthesiser's command line: espeak-ng with the page's language, or flite."""
    if Path(program).name.startswith("espeak"):
        voice = "en" if language.startswith("en") else "es-419"
        return [program, "-v", voice, "-s", "130", "-w", wav, "--", text]
    return [program, "-t", text, "-o", wav]


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
        command = speech_command(
            settings.CAPTCHA_FLITE_PATH, spoken_text(store.challenge), str(path), get_language()
        )
        subprocess.run(  # nosec B603: fixed executable from settings, text is digits only
            command,
            check=True,
            timeout=SPEECH_TIMEOUT,
            capture_output=True,
        )
        wav = path.read_bytes()
    response = HttpResponse(wav, content_type="audio/wav")
    response["Content-Disposition"] = 'inline; filename="codigo.wav"'
    return response
