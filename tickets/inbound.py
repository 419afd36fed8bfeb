"""Replies by e-mail: one code path for both ways in (``receive_mail``, ``fetch_mail``).

``receive(raw, source=...)`` stores every message as an ``InboundEmail`` row and,
in the same transaction, decides what it is:

1. unreadable or over ``INBOUND_MAX_SIZE`` → held, with the reason;
2. from our own address, a bounce, an auto-reply, a list → ignored (a bounce marks
   the outgoing message it returns as "rebotado");
3. more than ``INBOUND_MAX_PER_SENDER_HOUR`` from one sender → held;
4. matched to a ticket (``In-Reply-To``/``References`` against our Message-IDs,
   else ``[#ID]`` in the subject) and sent by its requester → applied with the same
   verb as a web reply; anything else waits for staff as "sin asociar", and a
   message that matches no ticket gets one answer per sender per day.

The row's unique Message-ID is the claim: two fetchers, or an MTA that delivers
twice, insert the same key and only the transaction that wins goes on (the other
waits for it on PostgreSQL, then finds the key taken). Applying runs in a
savepoint: if it fails the row stays, held with the error, and the caller goes on.
HTML is only ever read to be turned into text; it is never stored nor shown.
"""

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from tickets import emails, outbox, tracking, uploads
from tickets.addresses import normalize_email
from tickets.models import InboundEmail, OutgoingEmail, Reply, Ticket
from tickets.submission import submit_ticket

log = logging.getLogger(__name__)
State = InboundEmail.State

# The web form's limit for a message; longer mail is cut, and says so.
MAX_MESSAGE = 20000
NO_MESSAGE_ID_DOMAIN = "sin-message-id.invalid"

REASONS = {
    "too_big": _("El mensaje pesa %(size)s, más que el máximo de %(limit)s: no se leyó."),
    "unreadable": _("No se pudo leer el mensaje: %(error)s"),
    "no_sender": _("El mensaje no tiene un remitente legible (From)."),
    "own": _("Enviado desde la dirección de la Mesa de Ayuda: se ignora para no crear un bucle."),
    "bounce": _("Aviso de no entrega (rebote)."),
    "bounce_of": _("Aviso de no entrega (rebote) del correo enviado a %(to)s."),
    "auto": _("Mensaje automático (%(header)s): no se aplica ni se responde."),
    "flood": _("Más de %(limit)d mensajes de este remitente en una hora: retenido para revisión."),
    "no_ticket": _("No corresponde a ningún ticket."),
    "anonymized": _("El ticket fue anonimizado: ya no recibe respuestas."),
    "other_sender": _("El remitente no es el solicitante del ticket."),
    "applied": _("Agregado al ticket como respuesta del solicitante."),
    "applied_by": _("Agregado al ticket por %(user)s."),
    "opened_by": _("Ticket nuevo abierto por %(user)s."),
    "error": _("Error al aplicarlo; revíselo y asócielo a mano (%(error)s)."),
}

AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id")
BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}

MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
SUBJECT_TAG = re.compile(
    r"\[\s*#\s*([a-z0-9]{3}\s*-?\s*[a-z0-9]{3}\s*-?\s*[a-z0-9]{4})\s*\]", re.IGNORECASE
)


def _reason(key, **params) -> str:
    # Staff read these in the Spanish admin, whoever wrote the message.
    with translation.override(settings.LANGUAGE_CODE):
        return (str(REASONS[key]) % params if params else str(REASONS[key]))[:250]


# --- reading a message ---------------------------------------------------------------------
@dataclass
class Attachment:
    name: str
    content: bytes


@dataclass
class Parsed:
    message_id: str
    sender: str = ""
    sender_name: str = ""
    subject: str = ""
    referenced_ids: list = field(default_factory=list)
    text: str = ""
    attachments: list = field(default_factory=list)
    msg: EmailMessage | None = None


def _decode(data: bytes, charset: str | None) -> str:
    charset = (charset or "us-ascii").lower().strip()
    if charset in ("us-ascii", "ascii"):
        # "ASCII" text with 8-bit bytes: usually UTF-8 from a program that did not say so.
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            charset = "windows-1252"
    if charset in ("iso-8859-1", "latin-1", "latin1"):
        # Mail programs label windows-1252 text (curly quotes, €, …) as Latin-1:
        # the superset decodes both.
        charset = "windows-1252"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def _header(msg, name) -> str:
    """A header as text, whatever charset or 8-bit bytes it came in."""
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not cost the whole message
        value = None
        for k, v in msg.raw_items():
            if k.lower() == name.lower():
                value = v
                break
    if value is None:
        return ""
    value = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        # Raw 8-bit bytes in a header (no encoded-word): Latin-1 in Chilean mail.
        raw = value.encode("utf-8", "surrogateescape")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode("windows-1252", errors="replace")
    return " ".join(value.split())


def _message_id(msg, raw: bytes) -> str:
    found = MESSAGE_ID.findall(_header(msg, "Message-ID")) if msg is not None else []
    if found and len(found[0]) <= 255:
        return found[0]
    return f"<{hashlib.sha256(raw).hexdigest()}@{NO_MESSAGE_ID_DOMAIN}>"


def _sender(msg) -> tuple[str, str]:
    value = _header(msg, "From")
    pairs = getaddresses([value]) if value else []
    name, address = pairs[0] if pairs else parseaddr(value)
    return normalize_email(address)[:254], name.strip()[:150]


def _part_text(part) -> str:
    try:
        data = part.get_payload(decode=True) or b""
    except Exception:
        data = b""
    return _decode(data, part.get_content_charset())


def _body_text(msg) -> str:
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    text = _part_text(body)
    if body.get_content_type() == "text/html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _attachments(msg) -> list[Attachment]:
    found = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = part.get_filename()
        if not name:
            continue
        try:
            content = part.get_payload(decode=True) or b""
        except Exception:
            content = b""
        found.append(Attachment(_header_text(name), content))
    return found


def _header_text(value: str) -> str:
    raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("windows-1252", errors="replace")


def parse(raw: bytes) -> Parsed:
    """Everything we use from a message. Raises on a message the parser cannot read."""
    msg = message_from_bytes(raw, policy=policy.default)
    sender, sender_name = _sender(msg)
    ids = []
    for name in ("In-Reply-To", "References"):
        for mid in MESSAGE_ID.findall(_header(msg, name)):
            if mid not in ids:
                ids.append(mid)
    return Parsed(
        message_id=_message_id(msg, raw),
        sender=sender,
        sender_name=sender_name,
        subject=_header(msg, "Subject")[:250],
        referenced_ids=ids[:100],
        text=_body_text(msg),
        attachments=_attachments(msg),
        msg=msg,
    )


def parse_headers(raw: bytes) -> Parsed:
    """Only the headers: for a message too big to read."""
    msg = BytesHeaderParser(policy=policy.default).parsebytes(raw)
    sender, sender_name = _sender(msg)
    return Parsed(
        message_id=_message_id(msg, raw),
        sender=sender,
        sender_name=sender_name,
        subject=_header(msg, "Subject")[:250],
    )


class _TextExtractor(HTMLParser):
    BLOCKS = {
        "p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
        "blockquote", "hr", "ul", "ol", "pre", "section", "article", "header", "footer",
    }  # fmt: skip
    SKIP = {"script", "style", "head", "title", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.current: list[str] = []
        self.depth = 0
        self.skipping = 0
        self.pre = 0

    def _flush(self):
        text = "".join(self.current)
        text = text if self.pre else " ".join(text.split())
        self.lines.append((self.depth, text))
        self.current = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self._flush()
            if tag == "blockquote":
                self.depth += 1
            elif tag == "pre":
                self.pre += 1
            elif tag == "hr":
                self.lines.append((self.depth, "_" * 32))

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(self.skipping - 1, 0)
        elif tag in self.BLOCKS:
            self._flush()
            if tag == "blockquote":
                self.depth = max(self.depth - 1, 0)
            elif tag == "pre":
                self.pre = max(self.pre - 1, 0)

    def handle_data(self, data):
        if self.skipping:
            return
        if self.pre:
            for i, chunk in enumerate(data.split("\n")):
                if i:
                    self._flush()
                self.current.append(chunk)
        else:
            self.current.append(data.replace("\xa0", " "))


def html_to_text(html: str) -> str:
    """Plain text of an HTML part; blockquotes become "> " lines, as mail programs quote."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient; anything left is tags we can drop
        log.debug("inbound: HTML could not be fully parsed", exc_info=True)
    parser._flush()
    out, blank = [], False
    for depth, text in parser.lines:
        if not text.strip():
            if not blank and out:
                out.append("> " * depth if depth else "")
            blank = True
            continue
        blank = False
        out.append("> " * depth + text)
    return "\n".join(out).strip()


# --- removing the quoted history -----------------------------------------------------------
ATTRIBUTION = re.compile(
    r"^\s*(el|on|le)\s.{0,300}(escribió|wrote|a écrit)\s*:\s*$", re.IGNORECASE | re.DOTALL
)
HEADER_LINE = re.compile(
    r"^\s*\*?(de|from|enviado(\s+el)?|sent|fecha|date|para|to|cc|asunto|subject)\s*:\*?(\s|$)",
    re.IGNORECASE,
)
FROM_LINE = re.compile(r"^\s*\*?(de|from)\s*:\*?\s*\S", re.IGNORECASE)
SENT_LINE = re.compile(r"^\s*\*?(enviado(\s+el)?|sent|fecha|date)\s*:", re.IGNORECASE)
SUBJECT_LINE = re.compile(r"^\s*\*?(asunto|subject)\s*:", re.IGNORECASE)
SEPARATOR = re.compile(
    r"^\s*(_{10,}|-{2,}\s*(mensaje original|original message|mensaje reenviado|forwarded message)\s*-{2,})\s*$",
    re.IGNORECASE,
)
ORIGINAL_MESSAGE = re.compile(r"^\s*-{2,}\s*(mensaje original|original message)\s*-{2,}\s*$", re.I)
PHONE_SIGNATURE = re.compile(
    r"^\s*(enviado desde mi|sent from my|obtener outlook para|get outlook for)\b", re.IGNORECASE
)


def _markers() -> set[str]:
    found = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            found.add(" ".join(str(emails.REPLY_MARKER).strip("—- ").lower().split()))
    return found


def _is_marker(line: str, markers) -> bool:
    bare = " ".join(line.lstrip("> ").strip("—-–_ *").lower().split())
    return bool(bare) and bare in markers


def _attribution_at(lines, i) -> bool:
    if not re.match(r"^\s*(el|on|le)\s", lines[i], re.IGNORECASE):
        return False
    # Gmail wraps a long "El … escribió:" over two or three lines.
    return any(ATTRIBUTION.match(" ".join(lines[i : i + n])) for n in (1, 2, 3))


def _outlook_block_at(lines, i) -> bool:
    if not FROM_LINE.match(lines[i]):
        return False
    following = lines[i + 1 : i + 7]
    return any(SENT_LINE.match(x) for x in following) and any(
        SUBJECT_LINE.match(x) for x in following
    )


def strip_quotes(text: str) -> str:
    """What the requester wrote, without the history their mail program quoted.

    Cut at the first of: our marker line, "El … escribió:" / "On … wrote:", an
    Outlook "De: … Enviado: … Asunto:" block, "-----Mensaje original-----", a
    signature's "-- "; then drop "> " lines. When that leaves nothing (a reply
    written under the quote) keep every line that is not quoted: losing what
    the requester wrote is worse than showing a quote.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    markers = _markers()
    cut = len(lines)
    for i, line in enumerate(lines):
        if (
            _is_marker(line, markers)
            or _attribution_at(lines, i)
            or _outlook_block_at(lines, i)
            or ORIGINAL_MESSAGE.match(line)
            or line == "-- "
        ):
            cut = i
            break
    kept = lines[:cut]
    # What led into the quote: blank or quoted lines, a rule, the headers of a forward,
    # "Enviado desde mi iPhone".
    while kept and (
        not kept[-1].strip()
        or kept[-1].lstrip().startswith(">")
        or SEPARATOR.match(kept[-1])
        or PHONE_SIGNATURE.match(kept[-1])
        or (cut < len(lines) and HEADER_LINE.match(kept[-1]) and _is_marker(lines[cut], markers))
    ):
        kept.pop()
    reply = _tidy(x for x in kept if not x.lstrip().startswith(">"))
    if reply:
        return reply
    unquoted = (
        x
        for i, x in enumerate(lines)
        if not x.lstrip().startswith(">")
        and not _is_marker(x, markers)
        and not _attribution_at(lines, i)
    )
    return _tidy(unquoted) or text.strip()


def _tidy(lines) -> str:
    text = "\n".join(x.rstrip() for x in lines).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- what kind of message --------------------------------------------------------------------
def _own_addresses() -> set[str]:
    found = {parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()}
    if settings.INBOUND_EMAIL_ADDRESS:
        found.add(parseaddr(settings.INBOUND_EMAIL_ADDRESS)[1].lower())
    return found - {""}


def is_bounce(msg, sender: str) -> bool:
    if sender.partition("@")[0] in BOUNCE_SENDERS:
        return True
    if _header(msg, "Return-Path").replace(" ", "") == "<>":
        return True
    return (
        msg.get_content_type() == "multipart/report"
        and (msg.get_param("report-type") or "").lower() == "delivery-status"
    )


def automatic_header(msg) -> str:
    """The header that shows a message was sent by a program, or ""."""
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"[:80]
    precedence = _header(msg, "Precedence").lower()
    if precedence in AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in AUTO_HEADERS:
        if name in msg:
            return name
    return ""


def _bounced_rows(raw: bytes, own_id: str):
    """Our outgoing messages a bounce returns: their Message-IDs appear in its report."""
    ids = set(MESSAGE_ID.findall(raw[:2_000_000].decode("latin-1"))) - {own_id}
    if not ids:
        return OutgoingEmail.objects.none()
    return OutgoingEmail.objects.filter(message_id__in=list(ids)[:200])


def _diagnostic(raw: bytes) -> str:
    text = raw[:2_000_000].decode("latin-1")
    for name in ("Diagnostic-Code", "Status"):
        m = re.search(rf"^{name}:\s*(.+(?:\n[ \t].+)*)", text, re.MULTILINE | re.IGNORECASE)
        if m:
            return " ".join(m.group(1).split())[:300]
    return ""


def find_ticket(parsed: Parsed) -> Ticket | None:
    if parsed.referenced_ids:
        ticket_ids = dict(
            OutgoingEmail.objects.filter(message_id__in=parsed.referenced_ids)
            .exclude(ticket=None)
            .values_list("message_id", "ticket_id")
        )
        # In-Reply-To first, then References from the newest.
        for mid in parsed.referenced_ids:
            if mid in ticket_ids:
                return Ticket.objects.filter(pk=ticket_ids[mid]).first()
    for m in SUBJECT_TAG.finditer(parsed.subject):
        tracking_id = tracking.normalize(m.group(1))
        if tracking_id:
            ticket = Ticket.objects.filter(tracking_id=tracking_id).first()
            if ticket is not None:
                return ticket
    return None


def _human_size(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


# --- the one way in ----------------------------------------------------------------------------
def receive(raw: bytes, *, source: str, size: int | None = None) -> InboundEmail | None:
    """Store one message and act on it. None when this Message-ID was already stored.

    ``size`` is the message's full size when ``raw`` holds only its headers (too
    big to read). Raises only when the row itself cannot be written (the database
    is down): then the MTA must retry.
    """
    size = len(raw) if size is None else size
    error = ""
    parsed = None
    too_big = size > settings.INBOUND_MAX_SIZE
    try:
        parsed = parse_headers(raw) if too_big else parse(raw)
    except Exception as exc:  # a malformed message is data, held for staff
        error = f"{type(exc).__name__}: {exc}"[:200]
        log.warning("inbound: message could not be parsed (%s)", type(exc).__name__)
    if parsed is not None:
        # PostgreSQL text cannot hold NUL, and no person's text has one.
        for name in ("sender", "sender_name", "subject", "text"):
            setattr(parsed, name, getattr(parsed, name).replace("\x00", ""))
    row = InboundEmail(
        source=source,
        message_id=parsed.message_id if parsed else _message_id(None, raw),
        sender=parsed.sender if parsed else "",
        sender_name=parsed.sender_name if parsed else "",
        subject=parsed.subject if parsed else "",
        size=min(size, 2**31 - 1),
        text=parsed.text if parsed else "",
        raw=None if too_big else raw,
        state=State.HELD,
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            return None  # another fetcher, or an earlier delivery, has it
        try:
            with transaction.atomic():
                _decide(row, parsed, raw, too_big=too_big, error=error)
        except Exception as exc:
            log.exception("inbound: message %s could not be applied", row.pk)
            row.state, row.ticket, row.reply = State.HELD, None, None
            row.reason = _reason("error", error=type(exc).__name__)
        row.save()
    return row


def _decide(row, parsed, raw, *, too_big, error):
    if too_big:
        row.reason = _reason(
            "too_big",
            size=_human_size(row.size),
            limit=_human_size(settings.INBOUND_MAX_SIZE),
        )
        return
    if parsed is None:
        row.reason = _reason("unreadable", error=error)
        return
    msg = parsed.msg
    if "@" not in parsed.sender:
        row.reason = _reason("no_sender")
        return
    if parsed.sender in _own_addresses():
        row.state, row.reason = State.IGNORED, _reason("own")
        return
    if is_bounce(msg, parsed.sender):
        row.state, row.reason = State.IGNORED, _reason("bounce")
        rows = list(_bounced_rows(raw, parsed.message_id).select_related("ticket"))
        if rows:
            detail = _diagnostic(raw)
            OutgoingEmail.objects.filter(pk__in=[r.pk for r in rows]).update(
                state=OutgoingEmail.State.BOUNCED,
                last_error=("Rebotado: " + detail if detail else "Rebotado")[:2000],
            )
            row.ticket = next((r.ticket for r in rows if r.ticket_id), None)
            row.reason = _reason("bounce_of", to=rows[0].to)
        return
    header = automatic_header(msg)
    if header:
        row.state, row.reason = State.IGNORED, _reason("auto", header=header)
        return
    since = row.received_at - timedelta(hours=1)
    recent = InboundEmail.objects.filter(sender=parsed.sender, received_at__gte=since)
    if recent.exclude(pk=row.pk).count() >= settings.INBOUND_MAX_PER_SENDER_HOUR:
        row.reason = _reason("flood", limit=settings.INBOUND_MAX_PER_SENDER_HOUR)
        return
    row.reply_text = strip_quotes(parsed.text)
    ticket = find_ticket(parsed)
    row.state = State.UNMATCHED
    if ticket is None:
        row.reason = _reason("no_ticket")
        row.auto_answered = _answer_unmatched(row)
        return
    row.ticket = ticket
    if ticket.email.endswith(Ticket.ANONYMIZED_EMAIL_SUFFIX):
        row.ticket, row.reason = None, _reason("anonymized")
        return
    if ticket.email.lower() != parsed.sender:
        row.reason = _reason("other_sender")
        return
    row.reply = _apply(ticket, parsed, row.reply_text)
    row.state, row.reason = State.APPLIED, _reason("applied")


def _answer_unmatched(row) -> bool:
    """At most one answer a day per sender, and only to a plain person's address."""
    if not row.sender or outbox.recipient_problem(row.sender):
        return False
    # Two fetchers answering the same new sender in the same instant could both
    # send one: accepted, as both messages are real and the limit is per day.
    since = row.received_at - timedelta(days=1)
    if OutgoingEmail.objects.filter(
        kind="inbound_unmatched", to=row.sender, created_at__gte=since
    ).exists():
        return False
    emails.inbound_unmatched(row.sender)
    return True


# --- applying to a ticket ---------------------------------------------------------------------
def _files_for(ticket, attachments) -> tuple[list, list[str]]:
    """The files the web form would accept (type by content, size, count, the ticket's
    total), in order, and why each other one was refused. ``ticket`` None: a new ticket."""
    accepted, refused = [], []
    with translation.override(settings.LANGUAGE_CODE):
        for a in attachments:
            f = ContentFile(a.content, name=a.name or uploads.FALLBACK_NAME)
            try:
                uploads.check_file(f)
                if len(accepted) >= settings.TICKET_MAX_FILES:
                    uploads.check_files([*accepted, f])  # raises "too many" without reading
                uploads.check_ticket_total(ticket, [*accepted, f])
            except ValidationError as exc:
                name = uploads.safe_display_name(f.name)
                refused.append(f"{name}: {' '.join(_messages(exc))}")
            else:
                accepted.append(f)
    return accepted, refused


def _messages(exc: ValidationError) -> list[str]:
    try:
        return exc.messages
    except (KeyError, ValueError, TypeError):
        return [str(e.message) for e in exc.error_list]


def _message_for_ticket(text: str) -> str:
    text = text.strip() or str(_("[Correo sin texto]"))
    if len(text) > MAX_MESSAGE:
        with translation.override(settings.LANGUAGE_CODE):
            more = str(_("[… mensaje recortado: el texto completo está en Correo entrante]"))
        text = text[: MAX_MESSAGE - len(more) - 2].rstrip() + "\n\n" + more
    return text


def _apply(ticket, parsed, reply_text, *, author_name="") -> Reply:
    files, refused = _files_for(ticket, parsed.attachments)
    reply = ticket.add_requester_reply(
        message=_message_for_ticket(reply_text),
        files=files,
        channel=Reply.Channel.EMAIL,
        author_name=author_name,
    )
    if refused:
        _refused_note(ticket, refused)
    return reply


def _refused_note(ticket, refused):
    with translation.override(settings.LANGUAGE_CODE):
        head = str(_("Adjuntos del correo que no se aceptaron:"))
    # A note for staff only (is_internal): the requester's view is unchanged,
    # as with an agent's internal note.
    Reply.objects.create(
        ticket=ticket,
        kind=Reply.Kind.SYSTEM,
        author_name=settings.SITE_NAME,
        message=head + "\n" + "\n".join(f"- {r}" for r in refused),
        is_internal=True,
        channel=Reply.Channel.EMAIL,
    )


def _claim_for_staff(row_pk) -> InboundEmail | None:
    """The row, if it still waits for staff; locked so two agents never apply it twice."""
    return (
        InboundEmail.objects.select_for_update()
        .filter(pk=row_pk, state__in=[State.UNMATCHED, State.HELD], raw__isnull=False)
        .first()
    )


def attach_to_ticket(row: InboundEmail, ticket: Ticket, *, user) -> bool:
    """An agent applies a held message to a ticket; False if it was not waiting any more."""
    with transaction.atomic():
        row = _claim_for_staff(row.pk)
        if row is None:
            return False
        parsed = parse(bytes(row.raw))
        author = (
            "" if parsed.sender == ticket.email.lower() else (parsed.sender_name or parsed.sender)
        )
        reply_text = row.reply_text or strip_quotes(parsed.text)
        row.reply = _apply(ticket, parsed, reply_text, author_name=author)
        row.ticket, row.state, row.handled_by = ticket, State.APPLIED, user
        row.reason = _reason("applied_by", user=user.get_username())
        row.save()
    return True


def open_ticket(row: InboundEmail, *, user, category, region, project_number) -> Ticket | None:
    """An agent opens a new ticket from a held message, for its sender; None if it was handled."""
    with transaction.atomic():
        row = _claim_for_staff(row.pk)
        if row is None:
            return None
        parsed = parse(bytes(row.raw))
        files, refused = _files_for(None, parsed.attachments)
        ticket = submit_ticket(
            name=(parsed.sender_name or parsed.sender)[:100],
            email=parsed.sender,
            category=category,
            region=region,
            project_number=project_number,
            message=_message_for_ticket(row.reply_text or strip_quotes(parsed.text)),
            files=files,
        )
        if refused:
            _refused_note(ticket, refused)
        row.ticket, row.state, row.handled_by = ticket, State.APPLIED, user
        row.reason = _reason("opened_by", user=user.get_username())
        row.save()
    return ticket
