"""Tracking IDs: the shape users already hold from the old system (``1N7-XQE-RW26``)."""

import re
import secrets

# HESK's alphabet: no C, F, I, K, O and no 0, so IDs survive being read aloud or
# copied by hand. 30 symbols ** 10 ≈ 2**49.
ALPHABET = "AEUYBDGHJLMNPQRSTVWXZ123456789"
LENGTH = 10
SHAPE = re.compile(r"^[%s]{3}-[%s]{3}-[%s]{4}$" % ((ALPHABET,) * 3))


def new_tracking_id() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:3]}-{raw[3:6]}-{raw[6:]}"


def normalize(value: str) -> str:
    """What the person meant: upper case, no spaces, dashes where they belong.

    Returns "" when what was typed cannot be a tracking ID.
    """
    raw = re.sub(r"[^A-Z0-9]", "", (value or "").upper())
    if len(raw) != LENGTH:
        return ""
    candidate = f"{raw[:3]}-{raw[3:6]}-{raw[6:]}"
    return candidate if SHAPE.match(candidate) else ""


def short(tracking_id: str) -> str:
    """A prefix that is enough for an operator in a log line, not enough to open the ticket."""
    return (tracking_id or "")[:3] + "-…"
