"""Text typed by the public, made safe to show on one line to staff.

A name, a subject or a file name is read by agents in the queue, in e-mails and in
exports. Unicode format characters (category Cf: U+202E RIGHT-TO-LEFT OVERRIDE, the
bidi isolates, zero-width spaces and joiners, the soft hyphen) are invisible, yet
they reorder or hide what is shown: ``Juan\u202egnp.exe Soto`` reads as another file
name. Control characters (Cc) split lines and headers; lone surrogates (Cs, from
undecodable bytes) break UTF-8 on save. None of them belongs in a single line of
text, so they go where the text comes in, and everything downstream shows it as
stored.
"""

import unicodedata

_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


def single_line(value: str | None) -> str:
    """``value`` as one line: line breaks and tabs become spaces, invisible characters go.

    Runs of spaces collapse to one and the ends are trimmed.
    """
    chars = []
    for ch in str(value or ""):
        if ch.isspace():
            # Before the category test: tab, CR and LF are Cc but separate words.
            chars.append(" ")
        elif unicodedata.category(ch) not in _DROPPED_CATEGORIES:
            chars.append(ch)
    return " ".join("".join(chars).split())
