import secrets

from django.conf import settings


def digits_challenge():
    """The old portal asked to "type the number in the image": keep that habit."""
    answer = "".join(secrets.choice("23456789") for _ in range(settings.CAPTCHA_LENGTH))
    return answer, answer


def spoken_text(challenge: str) -> str:
    """What flite says: each digit alone, with a pause between, and the whole said twice.

    flite speaks English only; digits are the characters it pronounces most
    distinctly (the challenge uses 2–9, no 0/1 to confuse), one by one so that
    "58" is "five, eight" and not "fifty-eight".
    """
    digits = ". ".join(c for c in challenge if c.isdigit())
    return f"{digits}. . {digits}."
