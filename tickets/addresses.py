"""E-mail addresses as this project compares, stores and logs them."""


def normalize_email(address: str | None) -> str:
    """The form every address is stored and compared in: trimmed and lower-cased.

    The local part is case-sensitive in theory; in practice no mail system the
    ministry meets treats it so, and a requester who types "Alicia@" once and
    "alicia@" later must find the same tickets.
    """
    return (address or "").strip().lower()


def mask_address(address: str) -> str:
    """An address as a log line may hold it: enough to recognise, not to harvest."""
    local, _at, domain = (address or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
