import secrets

from django.conf import settings


def digits_challenge():
    """The old portal asked to "type the number in the image": keep that habit."""
    answer = "".join(secrets.choice("23456789") for _ in range(settings.CAPTCHA_LENGTH))
    return answer, answer
