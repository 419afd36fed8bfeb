"""Parsing environment values that both settings.py and gunicorn.conf.py read.

Kept free of Django so that gunicorn's master can use it before Django is set up.
"""


def whole_number(name: str, raw: str, *, default: int, minimum: int) -> int:
    """``raw`` as an int (``default`` when empty); ValueError with a message for people."""
    raw = (raw or "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}.")
    return value
