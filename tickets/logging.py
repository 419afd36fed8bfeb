"""Log lines name a ticket by the short prefix of its tracking ID, never the whole ID.

The tracking ID alone opens a ticket (with its requester's name, e-mail and
messages), so a full ID in a log is a key left lying around. Django's own
"Not Found: /ticket/1N7-XQE-RW26/" lines, gunicorn's access log and any
traceback pass through ``redact`` and come out as "/ticket/1N7-…/": enough for
an operator to match a complaint, not enough to open the ticket.
"""

import logging
import re
from collections.abc import Mapping

from tickets import tracking

# /ticket/<id>/… as the URLconf routes it (whatever the person typed, case or
# dashes aside), except the fixed pages that live under the same prefix.
_FIXED_PAGES = {"nuevo", "enviado", "ver", "olvide-mi-id"}
_TICKET_PATH = re.compile(r"(/ticket/)([^/?#\s\"'\\]+)")
# ?id=… on the look-up page, and a well-formed ID anywhere else in a message.
_ID_PARAM = re.compile(r"([?&]id=)([^&#\s\"'\\]+)", re.IGNORECASE)
_BARE_ID = re.compile(
    rf"(?<![A-Z0-9])[{tracking.ALPHABET}]{{3}}-[{tracking.ALPHABET}]{{3}}-[{tracking.ALPHABET}]{{4}}(?![A-Z0-9])",
    re.IGNORECASE,
)


def _short(value):
    return tracking.short(tracking.normalize(value) or value)


def redact(text: str) -> str:
    text = _TICKET_PATH.sub(lambda m: m[0] if m[2] in _FIXED_PAGES else m[1] + _short(m[2]), text)
    text = _ID_PARAM.sub(lambda m: m[1] + _short(m[2]), text)
    return _BARE_ID.sub(lambda m: _short(m[0]), text)


def _redact_value(value):
    return redact(value) if isinstance(value, str) else value


class RedactTrackingIds(logging.Filter):
    """Rewrites a record's message and arguments in place, for every handler after it."""

    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {k: _redact_value(v) for k, v in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_redact_value(a) for a in record.args)
        return True


class RedactingFormatter(logging.Formatter):
    """Also covers what a filter cannot reach: exception messages in tracebacks."""

    def format(self, record):
        return redact(super().format(record))


def gunicorn_access_atoms(atoms):
    """gunicorn's access-log fields (request line, path, query, referrer, headers), redacted."""
    return {k: _redact_value(v) for k, v in atoms.items()}
