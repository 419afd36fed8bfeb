"""What HESK stored, turned back into what people wrote.

HESK escapes everything on the way in (``hesk_input`` → ``htmlspecialchars``:
``&amp; &lt; &gt; &quot; &#039; &#96;``), and bodies also go through ``nl2br``
(``<br />`` before each line break) and ``hesk_makeURL`` (``<a href=…>`` around
addresses, the visible text shortened for long ones). Anything the person typed
that looks like markup is therefore an entity, and every literal tag is HESK's
own: strip the tags first, then decode the entities, never the other way round.

Pure functions, no database: the importer (tickets/hesk_import.py) and its tests
use them directly.
"""

import html
import ipaddress
import json
import re
import unicodedata

_BR = re.compile(r"<br\s*/?>[ \t]*(\r\n|\n|\r)?", re.IGNORECASE)
_BLOCK_END = re.compile(r"</(p|div|li|h[1-6]|tr)>", re.IGNORECASE)
_LINK = re.compile(r"<a\s[^>]*?href=([\"'])(.*?)\1[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")


def _link_text(match: re.Match) -> str:
    href, text = html.unescape(match.group(2)), match.group(3)
    text = html.unescape(_TAG.sub("", text))
    if href.lower().startswith("mailto:"):
        return text or href[7:]
    # makeURL shortens the visible text of a long address ("http://a.cl/lar...fin"):
    # the address itself is what was written.
    return href if href and text != href else text


def plain_text(value: str | None) -> str:
    """A HESK message body as the plain text its author typed."""
    text = value or ""
    text = _LINK.sub(lambda m: _link_text(m).replace("&", "&amp;").replace("<", "&lt;"), text)
    text = _BR.sub("\n", text)
    text = _BLOCK_END.sub("\n", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def unescape(value: str | None) -> str:
    """A name, subject or custom-field value: entities decoded, no markup, one line."""
    return " ".join(html.unescape(_TAG.sub("", value or "")).split())


def history_lines(value: str | None) -> str:
    """HESK's ``history`` column (``<li class="smaller">fecha | qué</li>…``) as one line each."""
    items = re.split(r"</li>", value or "", flags=re.IGNORECASE)
    lines = [unescape(item) for item in items]
    return "\n".join(line for line in lines if line)


def field_names(value: str | None) -> list[str]:
    """A custom field's name in every language it has: JSON from HESK 2.7, plain before."""
    raw = value or ""
    try:
        decoded = json.loads(raw)
    except ValueError:
        decoded = raw
    if isinstance(decoded, dict):
        return [unescape(str(v)) for v in decoded.values() if v]
    return [unescape(str(decoded))] if decoded else []


def fold(value: str) -> str:
    """Lower case, no accents, letters and digits separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_only.lower()).split())


def first_email(value: str | None) -> tuple[str, list[str]]:
    """HESK 3.5's ``u_email`` may list several addresses: the first, and the rest."""
    parts = [p.strip() for p in re.split(r"[,;\s]+", unescape(value)) if p.strip()]
    return (parts[0] if parts else ""), parts[1:]


def language_code(value: str | None) -> str:
    """HESK stores the language's name ("Español", "English") or nothing."""
    folded = fold(value or "")
    return "en" if folded.startswith("engl") else "es"


def ip_or_none(value: str | None) -> str | None:
    """HESK writes "Unknown" or "" when it had no address."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


# Words that name a region, after fold(); the roman numerals are the regions' old
# official numbers, still how many people write them ("V Región", "Región XIV").
REGION_WORDS = {
    "AP": ["arica", "parinacota", "xv"],
    "TA": ["tarapaca", "i"],
    "AN": ["antofagasta", "ii"],
    "AT": ["atacama", "iii"],
    "CO": ["coquimbo", "iv"],
    "VS": ["valparaiso", "v"],
    "RM": ["metropolitana", "santiago", "rm", "xiii"],
    "LI": ["higgins", "libertador", "vi"],
    "ML": ["maule", "vii"],
    "NB": ["nuble", "xvi"],
    "BI": ["biobio", "bio bio", "viii"],
    "AR": ["araucania", "ix"],
    "LR": ["los rios", "xiv"],
    "LL": ["los lagos", "x"],
    "AI": ["aysen", "aisen", "ibanez", "xi"],
    "MA": ["magallanes", "antartica", "xii"],
    "NC": ["nivel central", "central", "nacional", "subsecretaria"],
}
_NOISE = {"region", "de", "del", "la", "las", "los", "y", "el", "regional"}


def region_code(value: str | None) -> str | None:
    """Our region code for what HESK holds ("V Región de Valparaíso", "Region del Bio-Bio"…).

    None when nothing matches, or when the text names more than one region.
    """
    folded = fold(value or "")
    if not folded:
        return None
    words = folded.split()
    padded = f" {folded} "
    found = set()
    for code, names in REGION_WORDS.items():
        for name in names:
            if " " in name or len(name) > 4:
                if f" {name} " in padded or (len(name) > 4 and name in folded.replace(" ", "")):
                    found.add(code)
            elif name in words and (name != "i" or len(words) <= 3):
                # Short words (a code or a numeral) count only as whole words; "i" is
                # also a letter that shows up in initials, so only in short values.
                found.add(code)
    if len(found) > 1:
        # "Los Lagos" contains "los" and "lagos" only; but "Región de Los Ríos (XIV)"
        # and "X Región" overlap by numerals: keep the named region over the numeral.
        named = {
            code
            for code in found
            if any(
                len(n) > 4 and (f" {n} " in padded or n in folded.replace(" ", ""))
                for n in REGION_WORDS[code]
            )
        }
        found = named if len(named) == 1 else found
    if len(found) == 1:
        return found.pop()
    meaningful = [w for w in words if w not in _NOISE]
    if len(meaningful) == 1 and meaningful[0].upper() in REGION_WORDS:
        return meaningful[0].upper()
    return None
