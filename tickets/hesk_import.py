"""Bringing a HESK help desk across: categories, staff, tickets, replies, notes, files.

Used by ``manage.py import_hesk``. The HESK database is only read (a SELECT-only
account is enough) through PyMySQL, an optional dependency (``pip install '.[hesk]'``).

How it stays correct when run again, and when run on a live HESK:
- every imported row carries its HESK identity: the tracking ID on the ticket,
  ``hesk_ref`` ("r<id>"/"n<id>") on replies and notes, ``hesk_id`` on attachments,
  all unique in our schema; a rerun skips what it finds and adds what is new;
- a ticket is rewritten only when HESK's ``lastchange`` moved *and* nobody changed
  it here since the import (our ``updated_at`` still equals that stored
  ``hesk_lastchange``); otherwise ours is kept and the conflict reported;
- tables are read in id order, a batch at a time (keyset pagination, so memory
  stays flat and MyISAM tables are never locked for the whole run), and each batch
  is written in one transaction; a batch that fails is retried ticket by ticket so
  that only the failing ticket is left out, and reported.

Nothing here queues e-mail or goes through the public submission flow: rows are
written with HESK's own values, and deadlines come from the business clock
(``Ticket.business_deadline``) counted from the last reply.
"""

import logging
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from tickets import hesk_text, uploads
from tickets.forms import parse_project_number
from tickets.models import (
    Attachment,
    Category,
    Priority,
    Region,
    Reply,
    Sequence,
    Status,
    Ticket,
    user_label,
)

try:
    import pymysql
    import pymysql.cursors
except ImportError:  # pragma: no cover - the command says how to install it
    pymysql = None

log = logging.getLogger(__name__)

# HESK's built-in statuses; 6 and up are custom ones (hesk_custom_statuses).
STATUS_MAP = {
    0: Status.NEW,
    1: Status.WAITING_STAFF,
    2: Status.ANSWERED,
    3: Status.RESOLVED,
    4: Status.IN_PROGRESS,
    5: Status.ON_HOLD,
}
# HESK counts priorities the other way round: 0 is the most urgent.
PRIORITY_MAP = {0: Priority.CRITICAL, 1: Priority.HIGH, 2: Priority.MEDIUM, 3: Priority.LOW}
FALLBACK_REGION = "NC"
FALLBACK_CATEGORY = "Sin categoría (HESK)"
_CUSTOM_COLUMN = re.compile(r"^custom\d{1,3}$")
_PREFIX = re.compile(r"^[A-Za-z0-9_]{0,40}$")
_ATTACHMENT_REF = re.compile(r"(?:^|,)\s*(\d+)#")


class HeskError(Exception):
    """Something the operator must fix (a wrong URL, a folder that is not there): nothing written."""


@dataclass
class Options:
    db_url: str
    attachments: Path
    prefix: str = "hesk_"
    dry_run: bool = False
    region_field: str | None = None
    project_field: str | None = None
    # HESK custom status id → ours; ids not listed take custom_status_default.
    custom_statuses: dict[int, str] = field(default_factory=dict)
    custom_status_default: str = Status.IN_PROGRESS
    batch_size: int = 500


@dataclass
class Report:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def problem(self, kind: str, ident) -> None:
        self.problems[kind].append(str(ident))

    def summary(self, *, dry_run: bool = False, shown: int = 20) -> str:
        c = self.counts
        text = gettext(
            "HESK: %(new)d tickets nuevos, %(updated)d actualizados, %(same)d sin cambios; "
            "%(replies)d respuestas, %(notes)d notas, %(files)d adjuntos, "
            "%(categories)d categorías y %(staff)d agentes creados"
        ) % {
            "new": c["tickets_new"],
            "updated": c["tickets_updated"],
            "same": c["tickets_unchanged"],
            "replies": c["replies"],
            "notes": c["notes"],
            "files": c["attachments"],
            "categories": c["categories"],
            "staff": c["staff"],
        }
        if self.problems:
            parts = []
            for kind, ids in self.problems.items():
                more = f" (+{len(ids) - shown})" if len(ids) > shown else ""
                parts.append(f"{kind} [{len(ids)}]: {', '.join(ids[:shown])}{more}")
            text += "; " + gettext("problemas: ") + "; ".join(parts)
        else:
            text += "; " + gettext("sin problemas")
        if dry_run:
            text += " " + gettext("(simulación: no se escribió nada)")
        return text


class Progress:
    """One line rewritten in place, only on a terminal: logs and cron mail stay clean."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.label, self.total, self.done = "", 0, 0

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self._draw()

    def advance(self, n: int) -> None:
        self.done += n
        self._draw()

    def finish(self) -> None:
        if self.enabled and self.label:
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        if not self.enabled:
            return
        width = 30
        share = self.done / self.total if self.total else 1
        bar = "#" * int(width * min(share, 1))
        self.stream.write(
            f"\r{self.label:<12} [{bar:<{width}}] {self.done}/{self.total} ({share:.0%})"
        )
        self.stream.flush()


def connect(db_url: str):
    """A read connection to the HESK database; HeskError with the reason in Spanish."""
    if pymysql is None:
        raise HeskError(
            gettext("Falta PyMySQL para leer HESK: instálelo con pip install '.[hesk]'.")
        )
    url = urlparse(db_url or "")
    if url.scheme not in ("mysql", "mariadb") or not url.hostname or not url.path.strip("/"):
        raise HeskError(
            gettext(
                "La dirección de la base de datos debe tener la forma "
                "mysql://usuario:clave@servidor:3306/base (se recibió «%(url)s»)."
            )
            % {"url": _without_password(db_url)}
        )
    try:
        return pymysql.connect(
            host=url.hostname,
            port=url.port or 3306,
            user=unquote(url.username or ""),
            password=unquote(url.password or ""),
            database=unquote(url.path.strip("/")),
            charset="utf8mb4",
            cursorclass=pymysql.cursors.DictCursor,
            # TIMESTAMP columns are converted to the connection's zone: ask for UTC
            # so that what we read needs no guess about the old server's zone.
            init_command="SET time_zone = '+00:00'",
            connect_timeout=10,
            autocommit=True,
        )
    except pymysql.err.OperationalError as exc:
        code = exc.args[0] if exc.args else 0
        if code in (1044, 1045, 1698):
            reason = gettext("usuario o clave incorrectos, o sin permiso sobre esa base")
        elif code == 1049:
            reason = gettext("la base de datos no existe")
        else:
            reason = gettext("el servidor no responde")
        raise HeskError(
            gettext("No se pudo conectar a %(url)s: %(reason)s.")
            % {"url": _without_password(db_url), "reason": reason}
        ) from exc


def _without_password(db_url: str) -> str:
    return re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", db_url or "")


def _aware(value) -> datetime | None:
    # Zero dates ("0000-00-00 00:00:00") come back as strings: no date.
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    return None


def _number(value, default: int) -> int:
    """An ENUM('0'…'3') comes back as text, a TINYINT as an int; 0 is a value, not a blank."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _attachment_ids(value: str | None) -> list[int]:
    """HESK lists a message's files as "12#informe.pdf,13#foto.png,"."""
    return [int(n) for n in _ATTACHMENT_REF.findall(value or "")]


class Source:
    """One HESK database: which generation it is, and its tables a batch at a time."""

    # Every SQL string below names HESK's tables by the --prefix validated here (letters,
    # digits, underscore), never by data: the `# nosec` marks on them say that to bandit.
    def __init__(self, conn, prefix: str):
        if not _PREFIX.match(prefix or ""):
            raise HeskError(gettext("El prefijo de tablas solo admite letras, números y «_»."))
        self.conn = conn
        self.prefix = prefix
        with conn.cursor() as cur:
            cur.execute("SHOW TABLES")
            self.tables = {next(iter(row.values())) for row in cur.fetchall()}
        if self.t("tickets", quoted=False) not in self.tables:
            raise HeskError(
                gettext(
                    "La base no parece de HESK: no tiene la tabla %(table)s "
                    "(¿otro prefijo? use --prefix)."
                )
                % {"table": self.t("tickets", quoted=False)}
            )
        self.ticket_columns = self.columns("tickets")
        if not {"trackid", "id", "message", "status"} <= self.ticket_columns:
            raise HeskError(
                gettext("La tabla %(table)s no tiene las columnas de HESK (trackid, status…).")
                % {"table": self.t("tickets", quoted=False)}
            )
        # Up to 3.4 the requester is name/email; from 3.5, u_name/u_email.
        if {"u_name", "u_email"} <= self.ticket_columns:
            self.requester = ("u_name", "u_email")
        elif {"name", "email"} <= self.ticket_columns:
            self.requester = ("name", "email")
        else:
            raise HeskError(
                gettext("No se encontraron las columnas del solicitante en %(table)s.")
                % {"table": self.t("tickets", quoted=False)}
            )

    def t(self, name: str, *, quoted: bool = True) -> str:
        table = f"{self.prefix}{name}"
        return f"`{table}`" if quoted else table

    def has(self, name: str) -> bool:
        return self.t(name, quoted=False) in self.tables

    def columns(self, name: str) -> set[str]:
        if not self.has(name):
            return set()
        with self.conn.cursor() as cur:
            cur.execute(f"SHOW COLUMNS FROM {self.t(name)}")
            return {row["Field"] for row in cur.fetchall()}

    def all(self, sql: str, params=()) -> list[dict]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def count(self, name: str) -> int:
        if not self.has(name):
            return 0
        return self.all(f"SELECT COUNT(*) AS n FROM {self.t(name)}")[0]["n"]  # nosec

    def batches(self, name: str, key: str, columns: list[str], size: int) -> Iterator[list[dict]]:
        """Rows in ``key`` order, ``size`` at a time: memory stays flat, no lock held between."""
        if not self.has(name):
            return
        cols = ", ".join(f"`{c}`" for c in columns)
        last = -1
        while True:
            rows = self.all(
                f"SELECT {cols} FROM {self.t(name)} WHERE `{key}` > %s ORDER BY `{key}` LIMIT %s",  # nosec
                (last, size),
            )
            if not rows:
                return
            yield rows
            last = rows[-1][key]

    def attachments(self, ids: list[int]) -> list[dict]:
        if not ids or not self.has("attachments"):
            return []
        marks = ", ".join(["%s"] * len(ids))
        return self.all(
            f"SELECT att_id, ticket_id, saved_name, real_name, size, `type` "  # nosec
            f"FROM {self.t('attachments')} WHERE att_id IN ({marks})",
            ids,
        )

    def last_replies(self, ticket_ids: list[int]) -> dict[int, datetime]:
        if not ticket_ids or not self.has("replies"):
            return {}
        marks = ", ".join(["%s"] * len(ticket_ids))
        rows = self.all(
            f"SELECT replyto, MAX(dt) AS last FROM {self.t('replies')} "  # nosec
            f"WHERE replyto IN ({marks}) GROUP BY replyto",
            ticket_ids,
        )
        return {r["replyto"]: _aware(r["last"]) for r in rows}

    def custom_field_guess(self) -> tuple[str | None, str | None]:
        """Which customN holds the region and which the project number, from the fields' names."""
        region = project = None
        if not self.has("custom_fields"):
            return None, None
        for row in self.all(f"SELECT * FROM {self.t('custom_fields')} ORDER BY id"):  # nosec
            if str(row.get("use", "1")) == "0":
                continue
            names = " ".join(hesk_text.fold(n) for n in hesk_text.field_names(row.get("name")))
            column = f"custom{row['id']}"
            if column not in self.ticket_columns:
                continue
            if region is None and "region" in names:
                region = column
            elif project is None and ("proyecto" in names or "project" in names):
                project = column
        return region, project


class Importer:
    def __init__(self, source: Source, options: Options, report: Report, progress: Progress):
        self.source = source
        self.options = options
        self.report = report
        self.progress = progress
        self.folder = Path(options.attachments)
        self.storage = Attachment._meta.get_field("file").storage
        self.users: dict[int, User] = {}
        self.user_names: dict[int, str] = {}
        self.categories: dict[int, Category] = {}
        self.regions = {r.code: r for r in Region.objects.all()}
        self.region_cache: dict[str, Region | None] = {}
        self.unknown_regions: dict[str, int] = defaultdict(int)
        # Files written during the current attempt: removed again if it rolls back.
        self._saved: list[str] = []
        # Reported once even though the closing sweep sees them again.
        self._missing: set[int] = set()

    # --- the run -----------------------------------------------------------------------
    def run(self) -> None:
        region, project = self.source.custom_field_guess()
        self.region_field = self._custom_column(self.options.region_field or region, "region")
        self.project_field = self._custom_column(self.options.project_field or project, "project")
        if self.options.dry_run:
            # Everything as for real, inside one transaction that is rolled back;
            # files are read and checked but never written.
            with transaction.atomic():
                self._steps()
                transaction.set_rollback(True)
        else:
            # Each batch commits on its own: an interrupted run keeps what it did,
            # and the rerun carries on from there.
            self._steps()
        for value, n in sorted(self.unknown_regions.items()):
            self.report.problem(gettext("región desconocida, quedó Nivel Central"), f"{value}×{n}")

    def _steps(self) -> None:
        self.import_categories()
        self.import_staff()
        self.import_tickets()
        self.import_replies()
        self.import_notes()
        self.sweep_attachments()

    def _custom_column(self, column: str | None, what: str) -> str | None:
        if column is None:
            self.report.problem(gettext("sin campo personalizado"), what)
            return None
        if not _CUSTOM_COLUMN.match(column) or column not in self.source.ticket_columns:
            raise HeskError(
                gettext("La columna «%(column)s» no existe en la tabla de tickets de HESK.")
                % {"column": column}
            )
        return column

    def _in_batches(self, label: str, table: str, key: str, columns, write: Callable) -> None:
        """Each batch in one transaction; a failing batch again row by row, to isolate the row."""
        self.progress.start(label, self.source.count(table))
        for rows in self.source.batches(table, key, columns, self.options.batch_size):
            try:
                self._attempt(write, rows)
            except Exception:
                for row in rows:
                    try:
                        self._attempt(write, [row])
                    except Exception as exc:
                        log.warning("HESK %s %s not imported", table, row[key], exc_info=True)
                        self.report.problem(
                            gettext("no importado (%(table)s)") % {"table": table},
                            f"{row[key]} ({type(exc).__name__}: {exc})"[:200],
                        )
            self.progress.advance(len(rows))
        self.progress.finish()

    def _attempt(self, write: Callable, rows: list[dict]) -> None:
        self._saved = []
        counts = dict(self.report.counts)
        problems = {kind: len(ids) for kind, ids in self.report.problems.items()}
        missing = set(self._missing)
        try:
            with transaction.atomic():
                write(rows)
        except Exception:
            # Undo what the failed attempt wrote outside the database, and what it counted.
            for name in self._saved:
                self.storage.delete(name)
            self.report.counts.clear()
            self.report.counts.update(counts)
            for kind in list(self.report.problems):
                del self.report.problems[kind][problems.get(kind, 0) :]
                if not self.report.problems[kind]:
                    del self.report.problems[kind]
            self._missing = missing
            raise

    # --- reference data ----------------------------------------------------------------
    def import_categories(self) -> None:
        if not self.source.has("categories"):
            return
        for row in self.source.all(f"SELECT id, name FROM {self.source.t('categories')}"):  # nosec
            name = hesk_text.unescape(row["name"])[:100] or f"HESK {row['id']}"
            category, created = Category.objects.get_or_create(name=name)
            self.categories[row["id"]] = category
            self.report.counts["categories"] += created

    def _category(self, hesk_id) -> Category:
        category = self.categories.get(hesk_id)
        if category is None:
            category, created = Category.objects.get_or_create(
                name=FALLBACK_CATEGORY, defaults={"is_active": False}
            )
            self.report.counts["categories"] += created
            self.categories[hesk_id] = category
            self.report.problem(gettext("categoría inexistente"), hesk_id)
        return category

    def import_staff(self) -> None:
        """HESK staff as inactive agents; an existing account with the same e-mail is theirs."""
        if not self.source.has("users"):
            return
        group = Group.objects.filter(name="Agentes").first()
        for row in self.source.all(f"SELECT id, user, name, email FROM {self.source.t('users')}"):  # nosec
            email = hesk_text.unescape(row["email"])
            name = hesk_text.unescape(row["name"])
            login = hesk_text.unescape(row["user"])
            self.user_names[row["id"]] = name or login
            user = User.objects.filter(email__iexact=email).first() if email else None
            candidates = [login or f"hesk{row['id']}", f"hesk-{row['id']}-{login}"]
            for username in (c[:150] for c in candidates):
                if user is not None:
                    break
                taken = User.objects.filter(username=username).first()
                if taken is None:
                    user = self._new_agent(username, email, name, group)
                elif taken.email.lower() == email.lower() and not taken.has_usable_password():
                    # The account an earlier run made for this person (no e-mail to find it by).
                    user = taken
            self.users[row["id"]] = user

    def _new_agent(self, username: str, email: str, name: str, group) -> User:
        first, _sep, last = name.partition(" ")
        # Their HESK password is never read: an administrator activates the account
        # and the agent sets a password through the reset flow.
        user = User(
            username=username,
            email=email,
            first_name=first[:150],
            last_name=last[:150],
            is_active=False,
            is_staff=True,
        )
        user.set_unusable_password()
        user.save()
        if group is not None:
            user.groups.add(group)
        self.report.counts["staff"] += 1
        return user

    def _region(self, value: str) -> Region:
        text = hesk_text.unescape(value)
        if text not in self.region_cache:
            code = hesk_text.region_code(text)
            self.region_cache[text] = self.regions.get(code) if code else None
        region = self.region_cache[text]
        if region is None:
            self.unknown_regions[text or "(vacío)"] += 1
            region = self.regions[FALLBACK_REGION]
        return region

    # --- tickets -----------------------------------------------------------------------
    def _ticket_columns(self) -> list[str]:
        name, email = self.source.requester
        wanted = [
            "id",
            "trackid",
            name,
            email,
            "category",
            "priority",
            "subject",
            "message",
            "message_html",
            "dt",
            "lastchange",
            "closedat",
            "ip",
            "language",
            "status",
            "owner",
            "lastreplier",
            "replierid",
            "replies",
            "attachments",
            "history",
            self.region_field,
            self.project_field,
        ]
        return [c for c in dict.fromkeys(wanted) if c and c in self.source.ticket_columns]

    def import_tickets(self) -> None:
        self._in_batches(
            gettext("tickets"), "tickets", "id", self._ticket_columns(), self._write_tickets
        )

    def _status(self, value) -> str:
        number = _number(value, 0)
        if number in STATUS_MAP:
            return STATUS_MAP[number]
        return self.options.custom_statuses.get(number, self.options.custom_status_default)

    def _ticket_values(self, row: dict, last_reply: datetime | None) -> dict:
        name_col, email_col = self.source.requester
        email, others = hesk_text.first_email(row.get(email_col))
        if others:
            self.report.problem(gettext("otros e-mails no importados"), row["trackid"])
        message = hesk_text.plain_text(row.get("message")) or hesk_text.plain_text(
            row.get("message_html")
        )
        created = _aware(row.get("dt")) or _aware(row.get("lastchange")) or timezone.now()
        changed = _aware(row.get("lastchange")) or created
        status = self._status(row.get("status"))
        closed = None
        if status in (Status.RESOLVED, Status.CLOSED):
            # Older HESK had no closedat: its last change is when it was closed.
            closed = _aware(row.get("closedat")) or changed
        project = 0
        if self.project_field:
            try:
                project = parse_project_number(hesk_text.unescape(row.get(self.project_field)))
            except ValidationError:
                self.report.problem(gettext("sin número de proyecto"), row["trackid"])
        region = (
            self._region(row.get(self.region_field) or "")
            if self.region_field
            else self.regions[FALLBACK_REGION]
        )
        subject = hesk_text.unescape(row.get("subject"))
        if len(subject) > 120:
            subject = subject[:119].rstrip() + "…"
        replies = int(row.get("replies") or 0)
        last_replier = ""
        if replies:
            if str(row.get("lastreplier", "0")) == "1":
                staff = self.users.get(row.get("replierid"))
                last_replier = user_label(staff) if staff else ""
                last_replier = last_replier or self.user_names.get(row.get("replierid"), "")
            else:
                last_replier = hesk_text.unescape(row.get(name_col))
        values = {
            "number": int(row["id"]),
            "tracking_id": row["trackid"].strip(),
            "name": hesk_text.unescape(row.get(name_col))[:100],
            "email": email[:254],
            "category": self._category(row.get("category")),
            "region": region,
            "project_number": project,
            "subject": subject or Ticket.subject_from(message),
            "message": message,
            "ip_address": hesk_text.ip_or_none(row.get("ip")),
            "language": hesk_text.language_code(row.get("language")),
            "status": status,
            "priority": PRIORITY_MAP.get(_number(row.get("priority"), 3), Priority.LOW),
            "assignee": self.users.get(row.get("owner")),
            "created_at": created,
            "updated_at": changed,
            "closed_at": closed,
            "closed_by_system": False,
            "reply_count": replies,
            "last_replier": last_replier[:100],
            "hesk_lastchange": changed,
            "hesk_history": hesk_text.history_lines(row.get("history")),
        }
        # Our clocks, started from the last reply so that the queue and the stalled-ticket
        # cron treat the ticket like one of ours.
        ticket = Ticket(**values)
        start = last_reply or created
        ticket.staff_due_at = ticket.requester_due_at = None
        ticket.awaiting_information = False
        if status in (Status.NEW, Status.WAITING_STAFF, Status.IN_PROGRESS):
            ticket._start_staff_clock(start)
        elif status == Status.ANSWERED:
            ticket.requester_due_at = ticket.business_deadline(
                start, settings.REQUESTER_RESPONSE_HOURS
            )
        values["staff_due_at"] = ticket.staff_due_at
        values["requester_due_at"] = ticket.requester_due_at
        values["awaiting_information"] = False
        return values

    def _write_tickets(self, rows: list[dict]) -> None:
        rows = [r for r in rows if self._acceptable_trackid(r)]
        trackids = [r["trackid"].strip() for r in rows]
        existing = {t.tracking_id: t for t in Ticket.objects.filter(tracking_id__in=trackids)}
        numbers = dict(
            Ticket.objects.filter(number__in=[r["id"] for r in rows]).values_list(
                "number", "tracking_id"
            )
        )
        last_replies = self.source.last_replies([r["id"] for r in rows])
        new, changed, by_trackid = [], [], {}
        for row in rows:
            trackid = row["trackid"].strip()
            ticket = existing.get(trackid)
            if ticket is None:
                if numbers.get(row["id"], trackid) != trackid:
                    self.report.problem(gettext("número ya usado por otro ticket"), row["id"])
                    continue
                ticket = Ticket(**self._ticket_values(row, last_replies.get(row["id"])))
                new.append(ticket)
            elif ticket.hesk_lastchange == (_aware(row.get("lastchange")) or ticket.created_at):
                self.report.counts["tickets_unchanged"] += 1
            elif ticket.hesk_lastchange is None or ticket.updated_at != ticket.hesk_lastchange:
                # Worked on here since the import (or never imported): ours wins.
                self.report.problem(
                    gettext("cambiado aquí y en HESK, se mantuvo el de aquí"), trackid
                )
                self.report.counts["tickets_unchanged"] += 1
            else:
                for name, value in self._ticket_values(row, last_replies.get(row["id"])).items():
                    setattr(ticket, name, value)
                changed.append(ticket)
            by_trackid[trackid] = ticket
        Ticket.objects.bulk_create(new)
        if changed:
            Ticket.objects.bulk_update(changed, UPDATED_FIELDS)
        if new:
            top = max(t.number for t in new)
            Sequence.objects.get_or_create(name="ticket")
            # New tickets continue after the highest imported number.
            Sequence.objects.filter(name="ticket", value__lt=top).update(value=top)
        self.report.counts["tickets_new"] += len(new)
        self.report.counts["tickets_updated"] += len(changed)
        files = {}
        for row in rows:
            ticket = by_trackid.get(row["trackid"].strip())
            for att in _attachment_ids(row.get("attachments")) if ticket else ():
                files[att] = (ticket, None, ticket.created_at)
        self._import_files(files)

    def _acceptable_trackid(self, row: dict) -> bool:
        trackid = (row.get("trackid") or "").strip()
        if not trackid or len(trackid) > 12:
            self.report.problem(gettext("ID de seguimiento inválido"), row["id"])
            return False
        return True

    # --- replies and notes -------------------------------------------------------------
    def import_replies(self) -> None:
        columns = ["id", "replyto", "name", "message", "dt", "attachments", "staffid"]
        if "message_html" in self.source.columns("replies"):
            columns.append("message_html")
        self._in_batches(gettext("respuestas"), "replies", "id", columns, self._write_replies)

    def import_notes(self) -> None:
        columns = ["id", "ticket", "who", "dt", "message"]
        if "attachments" in self.source.columns("notes"):
            columns.append("attachments")
        self._in_batches(gettext("notas"), "notes", "id", columns, self._write_notes)

    def _tickets_by_number(self, numbers) -> dict[int, Ticket]:
        q = Ticket.objects.filter(number__in=set(numbers), hesk_lastchange__isnull=False)
        return {t.number: t for t in q.only("pk", "number", "tracking_id", "created_at")}

    def _write_replies(self, rows: list[dict]) -> None:
        tickets = self._tickets_by_number(r["replyto"] for r in rows)
        entries = []
        for row in rows:
            ticket = tickets.get(row["replyto"])
            if ticket is None:
                self.report.problem(gettext("respuesta de un ticket no importado"), row["id"])
                continue
            staff = int(row.get("staffid") or 0)
            author = self.users.get(staff) if staff else None
            message = hesk_text.plain_text(row.get("message")) or hesk_text.plain_text(
                row.get("message_html")
            )
            reply = Reply(
                ticket=ticket,
                kind=Reply.Kind.AGENT if staff else Reply.Kind.REQUESTER,
                author=author,
                author_name=(hesk_text.unescape(row.get("name")) or user_label(author))[:150],
                message=message,
                created_at=_aware(row.get("dt")) or ticket.created_at,
                hesk_ref=f"r{row['id']}",
            )
            entries.append((reply, row))
        self._write_entries(entries, "replies")

    def _write_notes(self, rows: list[dict]) -> None:
        tickets = self._tickets_by_number(r["ticket"] for r in rows)
        entries = []
        for row in rows:
            ticket = tickets.get(row["ticket"])
            if ticket is None:
                self.report.problem(gettext("nota de un ticket no importado"), row["id"])
                continue
            author = self.users.get(row.get("who"))
            name = user_label(author) or self.user_names.get(row.get("who"), "") or "HESK"
            reply = Reply(
                ticket=ticket,
                kind=Reply.Kind.AGENT,
                author=author,
                author_name=name[:150],
                message=hesk_text.plain_text(row.get("message")),
                is_internal=True,
                created_at=_aware(row.get("dt")) or ticket.created_at,
                hesk_ref=f"n{row['id']}",
            )
            entries.append((reply, row))
        self._write_entries(entries, "notes")

    def _write_entries(self, entries: list[tuple[Reply, dict]], counter: str) -> None:
        """Add the replies not yet here, correct the text of those edited in HESK since."""
        known = {
            ref: (pk, message)
            for ref, pk, message in Reply.objects.filter(
                hesk_ref__in=[r.hesk_ref for r, _row in entries]
            ).values_list("hesk_ref", "pk", "message")
        }
        new, edited = [], []
        for reply, _row in entries:
            if reply.hesk_ref in known:
                pk, message = known[reply.hesk_ref]
                reply.pk = pk
                if message != reply.message:
                    edited.append(reply)
            else:
                new.append(reply)
        Reply.objects.bulk_create(new)
        if edited:
            Reply.objects.bulk_update(edited, ["message"])
        self.report.counts[counter] += len(new)
        files = {
            att: (reply.ticket, reply.pk, reply.created_at)
            for reply, row in entries
            for att in _attachment_ids(row.get("attachments"))
        }
        self._import_files(files)

    # --- files -------------------------------------------------------------------------
    def _import_files(self, owners: dict[int, tuple[Ticket, int | None, datetime]]) -> None:
        """Copy the files HESK lists on these messages; the ones already here are skipped."""
        if not owners:
            return
        done = set(
            Attachment.objects.filter(hesk_id__in=list(owners)).values_list("hesk_id", flat=True)
        )
        wanted = [att for att in owners if att not in done]
        rows = self.source.attachments(wanted)
        found = {r["att_id"] for r in rows}
        for att in wanted:
            if att not in found:
                self._report_missing(att, gettext("adjunto sin fila en HESK"))
        made = []
        for row in rows:
            ticket, reply_id, created = owners[row["att_id"]]
            if row["ticket_id"] != ticket.tracking_id:
                self.report.problem(gettext("adjunto de otro ticket"), row["att_id"])
                continue
            attachment = self._copy(row, ticket=ticket, reply_id=reply_id, created=created)
            if attachment is not None:
                made.append(attachment)
        Attachment.objects.bulk_create(made)
        self.report.counts["attachments"] += len(made)

    def _report_missing(self, att_id: int, kind: str) -> None:
        if att_id not in self._missing:
            self._missing.add(att_id)
            self.report.problem(kind, att_id)

    def _copy(self, row: dict, *, ticket: Ticket, reply_id, created) -> Attachment | None:
        saved = row["saved_name"] or ""
        # saved_name is a bare file name in HESK; anything else is not followed.
        path = self.folder / saved
        if not saved or Path(saved).name != saved or not path.is_file():
            self._report_missing(row["att_id"], gettext("falta el archivo del adjunto"))
            return None
        display = uploads.safe_display_name(hesk_text.unescape(row["real_name"]) or saved)
        try:
            with path.open("rb") as fh:
                f = File(fh, name=display)
                try:
                    content_type = uploads.check_file(f)
                except ValidationError:
                    # Accepted by HESK under its older rules: kept, typed by its bytes.
                    content_type = uploads.detect_type(f) or "application/octet-stream"
                size = f.size
                sha256 = uploads.sha256_of(f)
                name = ""
                if not self.options.dry_run:
                    name = self.storage.save(uploads.random_storage_name(None, display), f)
                    self._saved.append(name)
        except OSError:
            self._report_missing(row["att_id"], gettext("adjunto ilegible"))
            return None
        return Attachment(
            ticket=ticket,
            reply_id=reply_id,
            file=name,
            original_name=display,
            size=size,
            content_type=content_type,
            sha256=sha256,
            created_at=created,
            hesk_id=row["att_id"],
        )

    def sweep_attachments(self) -> None:
        """Files no message lists (older HESK versions): ticket files on the ticket, note files reported."""
        self._in_batches(
            gettext("adjuntos"),
            "attachments",
            "att_id",
            ["att_id", "ticket_id", "saved_name", "real_name", "size", "type"],
            self._write_orphans,
        )

    def _write_orphans(self, rows: list[dict]) -> None:
        ids = [r["att_id"] for r in rows]
        done = set(Attachment.objects.filter(hesk_id__in=ids).values_list("hesk_id", flat=True))
        rest = [r for r in rows if r["att_id"] not in done and r["att_id"] not in self._missing]
        if not rest:
            return
        tickets = {
            t.tracking_id: t
            for t in Ticket.objects.filter(
                tracking_id__in={r["ticket_id"] for r in rest}, hesk_lastchange__isnull=False
            ).only("pk", "tracking_id", "created_at")
        }
        made = []
        for row in rest:
            ticket = tickets.get(row["ticket_id"])
            if ticket is None:
                self._report_missing(row["att_id"], gettext("adjunto de un ticket no importado"))
            elif str(row["type"]) == "1":
                # A note's file must never become public: without its note, it waits.
                self._report_missing(row["att_id"], gettext("adjunto de nota sin su nota"))
            else:
                attachment = self._copy(
                    row, ticket=ticket, reply_id=None, created=ticket.created_at
                )
                if attachment is not None:
                    made.append(attachment)
        Attachment.objects.bulk_create(made)
        self.report.counts["attachments"] += len(made)


# What a rerun rewrites on a ticket HESK changed (and nobody changed here).
UPDATED_FIELDS = [
    "name",
    "email",
    "category",
    "region",
    "project_number",
    "subject",
    "message",
    "ip_address",
    "language",
    "status",
    "priority",
    "assignee",
    "updated_at",
    "closed_at",
    "closed_by_system",
    "reply_count",
    "last_replier",
    "staff_due_at",
    "requester_due_at",
    "awaiting_information",
    "hesk_lastchange",
    "hesk_history",
]


def check_attachments_folder(path: Path) -> None:
    if not path.is_dir():
        raise HeskError(
            gettext("La carpeta de adjuntos %(path)s no existe o no es una carpeta.")
            % {"path": path}
        )


def import_hesk(options: Options, *, progress: Progress | None = None) -> Report:
    """Run one import; HeskError before anything is written when the input is wrong."""
    check_attachments_folder(Path(options.attachments))
    conn = connect(options.db_url)
    try:
        source = Source(conn, options.prefix)
        report = Report()
        Importer(source, options, report, progress or Progress()).run()
        return report
    finally:
        conn.close()
