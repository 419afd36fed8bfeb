"""The captcha's challenge and the pool of ready captchas (django-simple-captcha)."""

import secrets
from datetime import timedelta

from captcha.models import CaptchaStore
from django.conf import settings
from django.db import transaction
from django.utils import timezone


def digits_challenge():
    """The old portal asked to "type the number in the image": keep that habit."""
    answer = "".join(secrets.choice("23456789") for _ in range(settings.CAPTCHA_LENGTH))
    return answer, answer


def refill_pool(size: int | None = None) -> int:
    """Top the pool up to ``size`` servable rows and drop expired ones; how many were added.

    Safe to run twice at once: both may add, and the pool is then briefly larger,
    which costs nothing.
    """
    size = settings.CAPTCHA_POOL_SIZE if size is None else size
    CaptchaStore.remove_expired()
    servable = CaptchaStore.objects.filter(
        expiration__gt=timezone.now() + timedelta(minutes=settings.CAPTCHA_GET_FROM_POOL_TIMEOUT)
    ).count()
    missing = max(0, size - servable)
    if missing:
        with transaction.atomic():
            CaptchaStore.create_pool(missing)
    return missing


def refill_after_migrate(**kwargs) -> None:
    """A deploy (migrate) fills the pool, so the first visitors do not wait for cron."""
    if settings.CAPTCHA_GET_FROM_POOL:
        refill_pool()


def spoken_text(challenge: str) -> str:
    """What is read aloud: each digit alone, with a pause between, and the whole said twice.

    Digits are what a synthesiser pronounces most distinctly in any language (the
    challenge uses 2–9, no 0/1 to confuse), one by one so that "58" is "cinco, ocho"
    and not "cincuenta y ocho".
    """
    digits = ". ".join(c for c in challenge if c.isdigit())
    return f"{digits}. . {digits}."
