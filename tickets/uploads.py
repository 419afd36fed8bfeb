"""Attachment policy: which files a ticket may carry, and how they are named and stored.

Everything here reads the limits from settings at call time (``TICKET_MAX_FILES``,
``TICKET_MAX_FILE_SIZE``, ``TICKET_ALLOWED_EXTENSIONS``), so an administrator can
narrow them without a code change.

The user's file name is only ever display text: it never reaches the disk
(see ``random_storage_name``), and the file's type is judged by its bytes, not by
what the browser claimed in the upload.
"""

import datetime
import hashlib
import uuid

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from tickets.multipart import NAME_TOO_LONG
from tickets.text import single_line

FALLBACK_NAME = "adjunto"
MAX_DISPLAY_NAME_LENGTH = 150
# A "suffix" longer than this is part of the name, not an extension worth keeping.
_MAX_EXTENSION_LENGTH = 10

# Enough for every signature we look at, and the same window `filetype` uses.
_HEAD_SIZE = 8192

_PDF = "application/pdf"
_PNG = "image/png"
_JPEG = "image/jpeg"
_GIF = "image/gif"
_ZIP = "application/zip"
_OLE = "application/x-ole-storage"
_TEXT = "text/plain"
_HTML = "text/html"
_SVG = "image/svg+xml"
_XML = "application/xml"
_DOC = "application/msword"
_XLS = "application/vnd.ms-excel"
_PPT = "application/vnd.ms-powerpoint"
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_ODT = "application/vnd.oasis.opendocument.text"
_ODS = "application/vnd.oasis.opendocument.spreadsheet"
_ODP = "application/vnd.oasis.opendocument.presentation"
_EPUB = "application/epub+zip"

# Office 97-2003 files are all OLE2 compound files; `filetype` names the kind only
# when particular sectors are laid out the way Office writes them, so any OLE2
# container is good enough for doc/xls/ppt.
_OLE_FAMILY = frozenset({_OLE, _DOC, _XLS, _PPT})
# Likewise OOXML and OpenDocument files are ZIP containers. `filetype` recognises
# them only when the first ZIP entries come in the order Office/LibreOffice write
# them; a valid file written by another tool, with other parts first, comes out as
# a plain ZIP, so a ZIP signature is all we ask of them.
_ZIP_FAMILY = frozenset({_ZIP, _EPUB, _DOCX, _XLSX, _PPTX, _ODT, _ODS, _ODP})

_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Local file header, empty archive (end of central directory first), spanned archive.
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# Checked before anything else so that an executable never passes as a document or
# as text, whatever else its first bytes might resemble.
_EXECUTABLE_SIGNATURES = (
    (b"MZ", "application/x-msdownload"),
    (b"\x7fELF", "application/x-executable"),
    (b"#!", "text/x-shellscript"),
)

# Browsers content-sniff these as HTML/XML when a response lacks a trustworthy
# type; a "text" file starting this way is a page in disguise. Matched after
# skipping a UTF-8 BOM and the whitespace browsers skip.
_MARKUP_PREFIXES = (
    (b"<!doctype", _HTML),
    (b"<html", _HTML),
    (b"<head", _HTML),
    (b"<body", _HTML),
    (b"<script", _HTML),
    (b"<iframe", _HTML),
    (b"<!--", _HTML),
    (b"<svg", _SVG),
    (b"<?xml", _XML),
)
# The WHATWG sniffing algorithm also treats these tags as HTML when a space or
# ">" follows; they are too short to match as bare prefixes without catching
# ordinary text.
_SHORT_HTML_TAGS = (
    b"<h1",
    b"<div",
    b"<font",
    b"<table",
    b"<a",
    b"<style",
    b"<title",
    b"<b",
    b"<br",
    b"<p",
)
_SNIFF_WHITESPACE = b"\t\n\x0c\r "
_UTF8_BOM = b"\xef\xbb\xbf"

# extension -> (description, content type stored, content types accepted as matching).
# The stored type is the canonical one for the extension rather than the detected
# one: a .docx that `filetype` only sees as a ZIP must still be served as a Word
# document, not offered as "archive.zip".
_POLICY = {
    "pdf": (_("Documento PDF"), _PDF, frozenset({_PDF})),
    "doc": (_("Documento de Word 97-2003"), _DOC, _OLE_FAMILY),
    "docx": (_("Documento de Word"), _DOCX, _ZIP_FAMILY),
    "xls": (_("Planilla de Excel 97-2003"), _XLS, _OLE_FAMILY),
    "xlsx": (_("Planilla de Excel"), _XLSX, _ZIP_FAMILY),
    "ppt": (_("Presentación de PowerPoint 97-2003"), _PPT, _OLE_FAMILY),
    "pptx": (_("Presentación de PowerPoint"), _PPTX, _ZIP_FAMILY),
    "odt": (_("Documento de texto OpenDocument"), _ODT, _ZIP_FAMILY),
    "ods": (_("Hoja de cálculo OpenDocument"), _ODS, _ZIP_FAMILY),
    "odp": (_("Presentación OpenDocument"), _ODP, _ZIP_FAMILY),
    "jpg": (_("Imagen JPEG"), _JPEG, frozenset({_JPEG})),
    "jpeg": (_("Imagen JPEG"), _JPEG, frozenset({_JPEG})),
    "png": (_("Imagen PNG"), _PNG, frozenset({_PNG})),
    "gif": (_("Imagen GIF"), _GIF, frozenset({_GIF})),
    "txt": (_("Texto sin formato"), _TEXT, frozenset({_TEXT})),
    "csv": (_("Datos separados por comas (CSV)"), "text/csv", frozenset({_TEXT})),
    "zip": (_("Archivo comprimido ZIP"), _ZIP, _ZIP_FAMILY),
}

MESSAGES = {
    "too_many": ngettext_lazy(
        "Puede adjuntar como máximo %(max)d archivo.",
        "Puede adjuntar como máximo %(max)d archivos.",
        "max",
    ),
    "type": _(
        'El archivo "%(name)s" no tiene un tipo permitido. Revise la lista de tipos permitidos.'
    ),
    "empty": _('El archivo "%(name)s" está vacío.'),
    "name_too_long": _(
        'El nombre del archivo "%(name)s" es demasiado largo. Cámbiele el nombre por uno más '
        "corto y adjúntelo de nuevo."
    ),
    "too_big": _('El archivo "%(name)s" pesa más de %(limit)s, el máximo permitido.'),
    "content": _(
        'El contenido del archivo "%(name)s" no corresponde a su extensión .%(extension)s.'
    ),
    "ticket_total": _(
        "Los archivos adjuntos suman %(total)s y un ticket puede tener como máximo %(limit)s en adjuntos. "
        "Adjunte menos archivos o archivos más pequeños."
    ),
    "ticket_total_left": _(
        "Este ticket ya tiene %(used)s en adjuntos y el máximo por ticket, sumando todas sus respuestas, "
        "es %(limit)s: puede adjuntar hasta %(left)s más."
    ),
}


def _allowed_extensions() -> list[str]:
    # An extension listed in settings but unknown to _POLICY is left out: we would
    # have no way to check its content, so it is neither offered nor accepted.
    seen = []
    for ext in settings.TICKET_ALLOWED_EXTENSIONS:
        ext = ext.strip().lstrip(".").lower()
        if ext in _POLICY and ext not in seen:
            seen.append(ext)
    return seen


def allowed_types() -> list[dict]:
    """The accepted extensions, in settings order, with a description for the public page."""
    return [{"extension": ext, "description": _POLICY[ext][0]} for ext in _allowed_extensions()]


def safe_display_name(name: str) -> str:
    """The original file name reduced to harmless display text."""
    # Control and format characters (NUL, U+202E RIGHT-TO-LEFT OVERRIDE, zero-width
    # marks) can disguise "gpj.exe" as "exe.jpg" or split headers: the same rule as
    # for names and subjects.
    name = single_line(name)
    # Browsers on Windows may send the full client path.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join(name.split()).lstrip(". ")
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if stem and dot and 0 < len(ext) <= _MAX_EXTENSION_LENGTH:
            name = stem[: MAX_DISPLAY_NAME_LENGTH - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_DISPLAY_NAME_LENGTH].rstrip()
    return name or FALLBACK_NAME


def _extension(display_name: str) -> str:
    stem, dot, ext = display_name.rpartition(".")
    return ext.lower() if stem and dot else ""


def _read_head(f) -> bytes:
    f.seek(0)
    try:
        head = f.read(_HEAD_SIZE)
    finally:
        f.seek(0)
    return bytes(head or b"")


def _classify_text(head: bytes) -> str:
    # No decoding needed: any byte string is valid Latin-1, so with NUL excluded by
    # the caller every file "decodes"; and the markers below are plain ASCII, equal
    # in UTF-8 and Latin-1.
    start = head.removeprefix(_UTF8_BOM).lstrip(_SNIFF_WHITESPACE)[:32].lower()
    for prefix, mime in _MARKUP_PREFIXES:
        if start.startswith(prefix):
            return mime
    for tag in _SHORT_HTML_TAGS:
        if start.startswith(tag) and start[len(tag) : len(tag) + 1] in (b" ", b">"):
            return _HTML
    return _TEXT


def detect_type(f) -> str | None:
    """The content type the file's first bytes show, or None when they show nothing known."""
    head = _read_head(f)
    if not head:
        return None
    for signature, mime in _EXECUTABLE_SIGNATURES:
        if head.startswith(signature):
            return mime
    # `filetype` also takes "%PDF" after a UTF-8 BOM and without the dash; real
    # PDFs start with "%PDF-", so we ask for exactly that.
    if head.startswith(b"%PDF-"):
        return _PDF
    if head.startswith(_OLE_SIGNATURE):
        kind = filetype.document_match(head)
        return kind.mime if kind is not None and kind.mime in _OLE_FAMILY else _OLE
    if head.startswith(_ZIP_SIGNATURES):
        kind = filetype.guess(head)
        return kind.mime if kind is not None and kind.mime in _ZIP_FAMILY else _ZIP
    kind = filetype.image_match(head)
    if kind is not None:
        mime = kind.mime
        # An animated PNG is still a PNG; `filetype` reports it as image/apng.
        if mime == "image/apng":
            mime = _PNG
        # `filetype` settles for the three letters "GIF" (a text file could start so).
        if mime == _GIF and not head.startswith((b"GIF87a", b"GIF89a")):
            mime = None
        # Other image matchers are as loose ("BM" is a bitmap to `filetype`, and
        # also the start of "BMW" in a CSV), so they wait until text is ruled out.
        if mime in (_PNG, _JPEG, _GIF):
            return mime
    # Text has no signature. Binary formats all but always hold a NUL early on.
    if b"\x00" not in head:
        return _classify_text(head)
    kind = filetype.guess(head)
    return kind.mime if kind is not None else None


def _human_size(size: int) -> str:
    mib, kib = 1024 * 1024, 1024
    if size >= mib:
        value, unit = size / mib, "MB"
    elif size >= kib:
        value, unit = size / kib, "KB"
    else:
        return f"{size} B"
    decimals = 0 if value == int(value) else 1
    return f"{formats.number_format(value, decimals)} {unit}"


def check_file(f) -> str:
    """Validate one uploaded file; return the content type to store with it."""
    display = safe_display_name(f.name)
    if NAME_TOO_LONG in (getattr(f, "content_type_extra", None) or {}):
        # Shortened by tickets.multipart: its real name never reached us.
        raise ValidationError(
            MESSAGES["name_too_long"], code="file_name_too_long", params={"name": display}
        )
    extension = _extension(display)
    if extension not in _allowed_extensions():
        raise ValidationError(MESSAGES["type"], code="file_type", params={"name": display})
    size = f.size
    if not size:
        raise ValidationError(MESSAGES["empty"], code="file_empty", params={"name": display})
    limit = settings.TICKET_MAX_FILE_SIZE
    if size > limit:
        raise ValidationError(
            MESSAGES["too_big"],
            code="file_too_big",
            params={"name": display, "limit": _human_size(limit)},
        )
    _description, stored_type, accepted = _POLICY[extension]
    if detect_type(f) not in accepted:
        raise ValidationError(
            MESSAGES["content"],
            code="file_content",
            params={"name": display, "extension": extension},
        )
    return stored_type


def check_files(files: list) -> list[str]:
    """Validate all the files of one submission; return their content types, in order.

    Every refused file is reported, so the requester can fix them all at once.
    """
    files = list(files)
    maximum = settings.TICKET_MAX_FILES
    if len(files) > maximum:
        # Not worth reading eleven files to say the eleventh is one too many.
        raise ValidationError(MESSAGES["too_many"], code="too_many_files", params={"max": maximum})
    content_types, errors = [], []
    for f in files:
        try:
            content_types.append(check_file(f))
        except ValidationError as error:
            errors.extend(error.error_list)
    if errors:
        raise ValidationError(errors)
    return content_types


def check_ticket_total(ticket, files) -> None:
    """Refuse files that would take a ticket, with all its replies, past TICKET_MAX_TOTAL_SIZE.

    ``ticket`` is None for a new ticket. Two replies racing may together pass
    the limit by one reply's worth; the per-request limit still bounds that.
    """
    new = sum(f.size or 0 for f in files)
    if not new:
        return
    limit = settings.TICKET_MAX_TOTAL_SIZE
    used = 0
    if ticket is not None:
        used = ticket.attachments.aggregate(total=Sum("size"))["total"] or 0
    if used + new <= limit:
        return
    if used:
        params = {
            "used": _human_size(used),
            "limit": _human_size(limit),
            "left": _human_size(max(limit - used, 0)),
        }
        raise ValidationError(MESSAGES["ticket_total_left"], code="ticket_too_big", params=params)
    params = {"total": _human_size(new), "limit": _human_size(limit)}
    raise ValidationError(MESSAGES["ticket_total"], code="ticket_too_big", params=params)


def sha256_of(f) -> str:
    """Hex SHA-256 of the whole file, leaving it ready to be read again from the start."""
    digest = hashlib.sha256()
    for chunk in f.chunks():
        digest.update(chunk)
    f.seek(0)
    return digest.hexdigest()


def random_storage_name(instance, filename) -> str:
    """``upload_to`` for attachments: a random name, keeping only a known extension."""
    extension = _extension(safe_display_name(filename))
    suffix = f".{extension}" if extension in _allowed_extensions() else ""
    today = timezone.localdate() if settings.USE_TZ else datetime.date.today()
    return f"attachments/{today:%Y/%m}/{uuid.uuid4().hex}{suffix}"
