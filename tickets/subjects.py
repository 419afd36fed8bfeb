"""A ticket's subject, derived from its message: the first sentence that says something.

The public form has no subject field (HESK's had none either), so the queue shows the
first sentence of the message. People open with a greeting ("Estimados:", "Hola, buenas
tardes", "Junto con saludar, …"), which says nothing about the ticket: those are skipped.
"""

import re

from tickets.text import single_line

MAX_LENGTH = 80

# A greeting that opens a message. Matched at the start of what is left, repeatedly,
# so "Hola, buenas tardes. Junto con saludar, …" loses all three.
GREETING = re.compile(
    r"""^(?:
        (?:hola|al[oó])(?:\s+a\s+tod[oa]s)?
      | (?:muy\s+)?buen(?:os|as)?\s+(?:d[ií]as?|tardes|noches)
      | estimad[oa]s?(?:\s*/\s*[oa]s?)?
      | querid[oa]s?
      | junto\s+con\s+saludar(?:l[oa]s?|les?)?
      | (?:un\s+)?(?:cordial|afectuoso|atento)\s+saludo
      | saludos(?:\s+cordiales)?
      | se[ñn]or(?:es|as?|itas?)?
      | sr[ae]?s?\.
      | de\s+mi\s+(?:mayor\s+)?consideraci[oó]n
      | a\s+quien\s+corresponda
    )(?=[\s,:;.!¡]|$)""",
    re.IGNORECASE | re.VERBOSE,
)
# What may follow a greeting's keyword before its punctuation: "Estimados Mesa de Ayuda:".
GREETING_TAIL = re.compile(r"^[^\n,:;.!?]{0,40}?[,:;.!]+", re.UNICODE)
SENTENCE_END = re.compile(r"(?<=[.!?…])\s|\n")


def _skip_greetings(text: str) -> str:
    text = text.lstrip(" \t\r\n¡!,;:-–—")
    while True:
        m = GREETING.match(text)
        if not m:
            return text
        rest = text[m.end() :]
        tail = GREETING_TAIL.match(rest)
        # "Estimados Mesa de Ayuda:" is all greeting; "Buenas tardes no puedo
        # entrar" (no punctuation) is a greeting and then the request.
        if tail and len(tail.group().split()) <= 5:
            rest = rest[tail.end() :]
        text = rest.lstrip(" \t\r\n¡!,;:-–—")


def _first_sentence(text: str) -> str:
    text = text.strip()
    m = SENTENCE_END.search(text)
    sentence = (text[: m.start()] if m else text).strip()
    # single_line: no bidi overrides or zero-width characters in what staff read in the queue.
    return single_line(" ".join(sentence.rstrip(".").split()))


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 1].rstrip() + "…"


def subject_from(message: str, *, category=None) -> str:
    """The message's first sentence after any greeting, at most 80 characters.

    A message that is nothing but a greeting (or a word or two) gets the category's
    name in front of its first sentence, so the queue still says what it is about.
    """
    sentence = _first_sentence(_skip_greetings(message or ""))
    if sentence:
        sentence = sentence[0].upper() + sentence[1:]
    if len(sentence.split()) >= 2:
        return _shorten(sentence)
    first = _first_sentence(message or "")
    if category is None:
        return _shorten(sentence or first)
    return _shorten(f"{category}: {sentence or first}".rstrip(": "))
