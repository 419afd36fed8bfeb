"""E-mail addresses as this project compares, stores, checks, shows and logs them.

Look-alike domains: ``desarrollоsocial.gob.cl`` with a Cyrillic ``о`` reads exactly like
the ministry's own domain. Two defences, both here:

* ``check_address`` refuses, where an address comes in, a domain that mixes writing
  systems (Latin with Cyrillic, Greek…) or holds characters IDNA 2008 does not allow in
  a domain (zero-width spaces, full-width letters), which mail could not reach anyway;
* ``display_address`` shows staff every non-ASCII domain next to its punycode form
  (``alicia@desarrollоsocial.gob.cl (xn--desarrollsocial-hsm.gob.cl)``), so a domain
  written in one foreign script never passes for a Latin one.

Domains are encoded with the ``idna`` package (IDNA 2008, RFC 5891); Python's own
``encodings.idna`` is IDNA 2003 and would silently drop a zero-width space.
"""

import unicodedata

import idna
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Scripts that UTS #39 ("highly restrictive") lets share a domain: Japanese, Chinese and
# Korean writing mix Han with their own scripts, and with Latin letters. Any other
# script stands alone.
_COMPATIBLE_SCRIPTS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
# Character names that do not start with their script's name.
_SCRIPT_ALIASES = {"CJK": "HAN", "IDEOGRAPHIC": "HAN", "KATAKANA-HIRAGANA": "KATAKANA"}

MIXED_SCRIPTS = _(
    "El dominio del correo (lo que va después de la @) mezcla letras de alfabetos distintos, "
    "por ejemplo latinas y cirílicas que se ven iguales. Escriba la dirección con el teclado "
    "en vez de copiarla."
)
NOT_A_DOMAIN = _(
    "El dominio del correo (lo que va después de la @) tiene caracteres que no pueden ir en una "
    "dirección. Revise que la haya escrito bien."
)
NON_ASCII_LOCAL_PART = _(
    "La parte antes de la @ solo puede tener letras sin tilde, números y signos como . _ -. "
    "Revise que la haya escrito bien."
)


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


def ascii_domain(domain: str) -> str | None:
    """The domain's punycode (A-label) form; None when IDNA 2008 does not allow it."""
    try:
        return idna.encode(domain).decode("ascii")
    except idna.IDNAError:
        return None


def scripts_of(text: str) -> set[str]:
    """The writing systems of the letters in ``text`` ("LATIN", "CYRILLIC", "HAN"…).

    Digits, hyphens, dots and combining marks belong to no script of their own. The
    script is read from the first word of the character's Unicode name, which Python's
    ``unicodedata`` has (it lacks the Script property); IDNA 2008 has already kept out
    the symbols and compatibility letters whose names would not say it.
    """
    scripts = set()
    for ch in text:
        if unicodedata.category(ch).startswith("L"):
            word = unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]
            scripts.add(_SCRIPT_ALIASES.get(word, word))
    return scripts


def is_mixed_script(domain: str) -> bool:
    scripts = scripts_of(domain)
    return len(scripts) > 1 and not any(scripts <= ok for ok in _COMPATIBLE_SCRIPTS)


def check_address(address: str | None) -> str:
    """The address normalised, or ValidationError if it could pass for another one.

    For the forms that take an address from the public, after Django's own e-mail check.
    """
    address = normalize_email(address)
    local, _at, domain = address.rpartition("@")
    if not local.isascii():
        # Django lets a few look-alikes of ASCII letters through (the Kelvin sign
        # matches [A-Z] case-insensitively); no mailbox the ministry writes to needs them.
        raise ValidationError(NON_ASCII_LOCAL_PART, code="non_ascii_local_part")
    if not domain.isascii():
        if ascii_domain(domain) is None:
            raise ValidationError(NOT_A_DOMAIN, code="invalid_domain")
        if is_mixed_script(domain):
            raise ValidationError(MIXED_SCRIPTS, code="mixed_scripts")
    return address


def display_address(address: str | None) -> str:
    """The address as staff must see it: a non-ASCII part followed by its ASCII form.

    ``alicia@desarrollоsocial.gob.cl (xn--desarrollsocial-hsm.gob.cl)``. What IDNA cannot
    encode (stored before the check existed) is shown with escapes, ``\\u200b``.
    """
    address = address or ""
    if address.isascii():
        return address
    local, at, domain = address.rpartition("@")
    shown = ascii_domain(domain) or _escaped(domain)
    if not local.isascii():
        shown = f"{_escaped(local)}{at}{shown}"
    return f"{address} ({shown})"


def display_domain(domain: str | None) -> str:
    """A domain alone, shown as ``display_address`` shows it."""
    domain = domain or ""
    if domain.isascii():
        return domain
    return f"{domain} ({ascii_domain(domain) or _escaped(domain)})"


def _escaped(text: str) -> str:
    return text.encode("ascii", "backslashreplace").decode("ascii")
