"""Tickets and their conversation.

Every change of a ticket's state has one home: a method on ``Ticket``. The public
views, the admin and the cron commands call these verbs; none sets ``status``
by hand. Each verb records history and queues its e-mails in one transaction.
"""

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tickets import bulk, business_calendar, emails, subjects, tracking, uploads

from .outgoing_email import OutgoingEmail
from .reference import Category, NonWorkingDay, Region

# The widest positive integer a PositiveIntegerField holds on every database (PostgreSQL's
# integer): a longer number typed anywhere cannot be a ticket or project number.
MAX_POSITIVE_INT = 2_147_483_647


def _as_hours(spent: timedelta) -> float:
    """Working time as the reports store it: hours, rounded to 4 decimals."""
    return round(spent.total_seconds() / 3600, 4)


class Status(models.TextChoices):
    NEW = "new", _("Nuevo")
    WAITING_STAFF = "waiting", _("Esperando respuesta")
    ANSWERED = "answered", _("Respondido")
    IN_PROGRESS = "in_progress", _("En curso")
    ON_HOLD = "on_hold", _("En espera")
    RESOLVED = "resolved", _("Resuelto")
    CLOSED = "closed", _("Cerrado")


OPEN_STATUSES = [
    Status.NEW,
    Status.WAITING_STAFF,
    Status.ANSWERED,
    Status.IN_PROGRESS,
    Status.ON_HOLD,
]
FINISHED_STATUSES = [Status.RESOLVED, Status.CLOSED]
# While the ticket waits on staff the response clock runs.
STAFF_CLOCK_STATUSES = [Status.NEW, Status.WAITING_STAFF, Status.IN_PROGRESS]


class Priority(models.IntegerChoices):
    LOW = 1, _("Bajo")
    MEDIUM = 2, _("Medio")
    HIGH = 3, _("Alto")
    CRITICAL = 4, _("Crítico")


class Channel(models.TextChoices):
    """How the request reached the help desk: the public form, or staff on a caller's behalf."""

    WEB = "web", _("web")
    PHONE = "telefono", _("teléfono")
    EMAIL = "correo", _("correo")
    IN_PERSON = "presencial", _("presencial")


class MergeError(ValueError):
    """A merge that would lose a ticket or make a loop; the message says why, in Spanish."""


class Sequence(models.Model):
    """Ticket numbers without gaps or repeats, under concurrent submissions too.

    The increment is part of the ticket's transaction, so a submission that fails
    gives its number back. Its UPDATE holds the row lock until that transaction
    ends: on PostgreSQL two submissions get consecutive numbers, the second waiting
    for the first to commit (SQLite serialises writers anyway). Hence a transaction
    takes its number as late as it can (``Ticket.open``).
    """

    name = models.CharField(max_length=40, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.name} = {self.value}"

    @classmethod
    def next(cls, name: str) -> int:
        # One round trip (UPDATE … RETURNING, PostgreSQL and SQLite ≥ 3.35) instead of
        # four (savepoint, update, select, release): it is on every submission's path.
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {cls._meta.db_table} SET value = value + 1 WHERE name = %s RETURNING value",  # nosec
                [name],
            )
            row = cursor.fetchone()
        if row is not None:
            return row[0]
        cls.objects.get_or_create(name=name)
        return cls.next(name)


class Ticket(models.Model):
    number = models.PositiveIntegerField(_("número"), unique=True, editable=False)
    tracking_id = models.CharField(
        _("ID de seguimiento"), max_length=12, unique=True, editable=False
    )
    # Set by the submission form so that a double click or a refreshed POST finds
    # the ticket it already created instead of making a second one.
    submission_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    name = models.CharField(_("nombre"), max_length=100)
    email = models.EmailField(_("e-mail"))
    category = models.ForeignKey(
        Category, models.PROTECT, related_name="tickets", verbose_name=_("categoría")
    )
    region = models.ForeignKey(
        Region, models.PROTECT, related_name="tickets", verbose_name=_("región")
    )
    project_number = models.PositiveIntegerField(_("número de proyecto"))
    subject = models.CharField(_("asunto"), max_length=120, blank=True)
    message = models.TextField(_("mensaje"))
    ip_address = models.GenericIPAddressField(_("dirección IP"), null=True, blank=True)
    language = models.CharField(_("idioma"), max_length=8, default="es")

    status = models.CharField(
        _("estado"), max_length=12, choices=Status.choices, default=Status.NEW
    )
    priority = models.PositiveSmallIntegerField(
        _("prioridad"), choices=Priority.choices, default=Priority.LOW
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("asignado a"),
    )

    created_at = models.DateTimeField(_("creado"), default=timezone.now)
    updated_at = models.DateTimeField(_("actualizado"), default=timezone.now)
    closed_at = models.DateTimeField(_("cerrado"), null=True, blank=True)
    closed_by_system = models.BooleanField(_("cerrado automáticamente"), default=False)

    # Denormalised so that neither the queue nor the public page count rows.
    reply_count = models.PositiveIntegerField(_("respuestas"), default=0)
    last_replier = models.CharField(_("última respuesta"), max_length=100, blank=True)

    # Deadlines (see docs/architecture.md, "The clocks"): only one clock runs at a time.
    staff_due_at = models.DateTimeField(_("plazo de respuesta"), null=True, blank=True)
    requester_due_at = models.DateTimeField(_("plazo del solicitante"), null=True, blank=True)
    awaiting_information = models.BooleanField(_("información solicitada"), default=False)

    # Set only on tickets brought from HESK (manage.py import_hesk): its "last change"
    # tells a rerun whether the ticket changed there, and its history log is kept as read.
    hesk_lastchange = models.DateTimeField(
        _("última modificación en HESK"), null=True, blank=True, editable=False
    )
    hesk_history = models.TextField(_("historial importado"), blank=True, editable=False)
    # Measures for the supervisors' reports (tickets/reports.py), written by the verbs so
    # that every figure is an aggregate: business hours by the ticket's regional calendar.
    first_public_answer_at = models.DateTimeField(
        _("primera respuesta"), null=True, blank=True, editable=False
    )
    first_answer_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("primera respuesta de"),
    )
    first_answer_business_hours = models.FloatField(
        _("horas hábiles hasta la primera respuesta"), null=True, blank=True, editable=False
    )
    resolution_business_hours = models.FloatField(
        _("horas hábiles hasta el cierre"), null=True, blank=True, editable=False
    )
    channel = models.CharField(
        _("canal"), max_length=12, choices=Channel.choices, default=Channel.WEB
    )
    # A duplicate merged into another ticket: its tracking ID leads there.
    merged_into = models.ForeignKey(
        "self",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_tickets",
        verbose_name=_("fusionado en"),
        editable=False,
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["-created_at"], name="ticket_created"),
            models.Index(fields=["-updated_at"], name="ticket_updated"),
            models.Index(fields=["status", "-created_at"], name="ticket_status_created"),
            models.Index(fields=["priority"], name="ticket_priority"),
            models.Index(fields=["staff_due_at"], name="ticket_staff_due"),
            models.Index(fields=["status", "requester_due_at"], name="ticket_requester_due"),
            models.Index(fields=["email"], name="ticket_email"),
            models.Index(fields=["project_number"], name="ticket_project"),
            models.Index(fields=["closed_at"], name="ticket_closed"),
        ]
        permissions = [("view_reports", _("Puede ver los informes y exportar"))]

    def __str__(self):
        return f"#{self.number} {self.tracking_id}"

    # --- reading -------------------------------------------------------------
    def get_absolute_url(self) -> str:
        return reverse("tickets:ticket", args=[self.tracking_id])

    def public_url(self) -> str:
        return settings.PUBLIC_SITE_URL + self.get_absolute_url()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return bool(self.staff_due_at and self.staff_due_at < timezone.now())

    def conversation(self, *, internal: bool) -> tuple[list["Attachment"], list["Reply"]]:
        """The files sent with the ticket, and its replies in order, each with ``.files``.

        ``internal=False`` is the requester's view: no internal notes, nor their files.
        Two queries whatever the number of replies and files.
        """
        files = self.attachments.all()
        replies = self.replies.all()
        if not internal:
            files = files.exclude(reply__is_internal=True)
            replies = replies.filter(is_internal=False)
        by_reply = {}
        for f in files:
            f.ticket = self  # spares a query per link
            by_reply.setdefault(f.reply_id, []).append(f)
        replies = list(replies)
        for r in replies:
            r.files = by_reply.get(r.pk, [])
        return by_reply.get(None, []), replies

    @staticmethod
    def subject_from(message: str, category=None) -> str:
        return subjects.subject_from(message, category=category)

    # --- deadlines -----------------------------------------------------------
    def business_deadline(self, start: datetime, hours: int) -> datetime:
        """``start`` plus ``hours`` working hours in this ticket's region."""
        # Extra days off are looked up for a window that covers any realistic deadline
        # (16 working hours never span two months, even at Christmas). A deadline past
        # the window could have skipped a day off we did not fetch, so it is worked out
        # again with a wider one: correct for any REQUESTER_/STAFF_RESPONSE_HOURS.
        # Here, not at the top: reference_choices reads these models.
        from tickets import reference_choices

        first = timezone.localtime(start, business_calendar.TIME_ZONE).date() - timedelta(days=1)
        span = 60
        while True:
            last = first + timedelta(days=span)
            # The days off as this process keeps them (a minute at most behind a change
            # saved in another worker): every submission and reply sets a deadline.
            kept = reference_choices.days_off(first, first, last)
            extra = (
                kept[self.region_id]
                if self.region_id in kept  # a region added since, in another worker: read it
                else NonWorkingDay.dates_by_region([self.region_id], first, last)[self.region_id]
            )
            due = business_calendar.add_business_hours(
                start, hours, subdiv=self.region.holiday_subdiv, extra_days=extra
            )
            if due.date() <= last:
                return due
            span *= 4

    def _start_staff_clock(self, now):
        self.staff_due_at = self.business_deadline(now, settings.STAFF_RESPONSE_HOURS)
        self.requester_due_at = None
        self.awaiting_information = False

    def _days_since_created(self, end) -> tuple[date, date]:
        """The first and last day whose extra days off count from the ticket's creation to ``end``."""
        tz = business_calendar.TIME_ZONE
        return (
            timezone.localtime(self.created_at, tz).date() - timedelta(days=1),
            timezone.localtime(end, tz).date() + timedelta(days=1),
        )

    def business_hours_since_created(self, end) -> float:
        """Working hours from the ticket's creation to ``end``, by its region's calendar."""
        return Ticket._resolution_hours([self], end)[self.pk]

    @staticmethod
    def _resolution_hours(tickets, end) -> dict[int, float]:
        """``business_hours_since_created(end)`` of each ticket (by pk), for a batch.

        The extra days off are read once for all the regions, and each region's
        calendar is walked once for all its tickets, instead of once per ticket.
        """
        windows = [t._days_since_created(end) for t in tickets]
        extra = NonWorkingDay.dates_by_region(
            {t.region_id for t in tickets}, min(w[0] for w in windows), max(w[1] for w in windows)
        )
        by_region = {}
        for t in tickets:
            by_region.setdefault(t.region_id, []).append(t)
        hours = {}
        for region_id, group in by_region.items():
            spent = business_calendar.business_hours_since(
                [t.created_at for t in group],
                end,
                subdiv=group[0].region.holiday_subdiv,
                extra_days=extra[region_id],
            )
            hours.update((t.pk, _as_hours(s)) for t, s in zip(group, spent, strict=True))
        return hours

    def _note_first_answer(self, user, now):
        if self.first_public_answer_at is None:
            self.first_public_answer_at, self.first_answer_by = now, user
            self.first_answer_business_hours = self.business_hours_since_created(now)

    # --- verbs ---------------------------------------------------------------
    # How a verb stays right when the row changed since this copy was read (a page
    # loaded before cron closed the ticket, a colleague's reply, a bulk action's old
    # queryset) — one of two ways, never neither:
    #   * lock, then decide: ``_lock()`` re-reads STATE_FIELDS under SELECT … FOR UPDATE,
    #     the verb decides on what it read and saves only STATE_FIELDS (people's actions:
    #     replies, resolve, change);
    #   * lock or skip, then compare: cron's ``close_stalled_batch`` locks a batch's rows
    #     with SKIP LOCKED and acts only on those still as the copies saw them, where
    #     losing a race means "someone got there first, skip it".
    # A verb that changes no state (an internal note) needs neither.
    @classmethod
    def open(
        cls,
        *,
        name: str,
        email: str,
        category: Category,
        region: Region,
        project_number: int,
        message: str,
        files=(),
        ip_address: str | None = None,
        language: str = "es",
        submission_token: uuid.UUID | None = None,
        channel: str = Channel.WEB,
    ) -> "Ticket":
        """A new ticket: its number, tracking ID, staff clock, files and e-mails, in one transaction.

        Raises IntegrityError when the tracking ID (once in ~10^14) or the
        submission token is taken; ``tickets.submission`` decides what that means.
        """
        now = timezone.now()
        ticket = cls(
            tracking_id=tracking.new_tracking_id(),
            submission_token=submission_token,
            name=name,
            email=email,
            category=category,
            region=region,
            project_number=project_number,
            subject=cls.subject_from(message, category),
            message=message,
            ip_address=ip_address,
            language=language,
            channel=channel,
            created_at=now,
            updated_at=now,
        )
        ticket._start_staff_clock(now)
        # Reads, rendering and the confirmation's count first: none of them needs the
        # transaction, and the shorter it is the less its locks hold others up.
        mail = emails.ticket_created(ticket)
        if connection.vendor != "postgresql":
            # SQLite serialises writers anyway: nothing to gain from the order below.
            with transaction.atomic():
                ticket.number = Sequence.next("ticket")
                ticket.save()
                ticket.add_attachments(files)
                mail.queue()
            return ticket
        # The number last (see Sequence): its counter row stays locked until the commit,
        # and every other submission waits for it. Taken first, it was held through the
        # ticket's, the e-mails' and the files' writes and every round trip between: 13 ms
        # on average under load, which capped the site at about 75 submissions a second
        # (issue 17). Now one statement takes it, writes the ticket and its e-mails, and
        # (without files) commits: the lock lasts only the server's own work.
        if not files and not connection.in_atomic_block:
            ticket._insert_with_mail(mail)
            return ticket
        # With files, their rows come first under a key taken beforehand (foreign keys
        # are checked at the commit); the lock then lasts that statement and the commit.
        # Inside a caller's transaction, a savepoint: a refused statement (a repeated
        # submission token) must not abort the caller's work.
        with transaction.atomic():
            if files:
                ticket.pk = bulk.new_keys(Ticket, 1)[0]
                ticket.add_attachments(files)
            ticket._insert_with_mail(mail)
        return ticket

    def _insert_with_mail(self, mail: "emails.NewTicketMail") -> None:
        """One statement (PostgreSQL): the next number, this ticket's row with it and its
        e-mails' rows with the number and the ticket's id where they show the markers.

        Like ``bulk.insert`` it writes what ``save()`` would, without ``save()``: no
        pre_save or post_save signals (none is connected to tickets).
        """
        q = connection.ops.quote_name
        rows = mail.rows()
        fields = bulk.insert_fields(
            Ticket, leave_out={"number"} if self.pk is not None else {"number", "id"}
        )
        parts = [
            f"n AS (UPDATE {q(Sequence._meta.db_table)} SET value = value + 1"  # nosec B608
            " WHERE name = %s RETURNING value)",
            f"t AS (INSERT INTO {q(Ticket._meta.db_table)} (number, {bulk.columns(fields)})"  # nosec B608
            f" SELECT n.value, {', '.join(['%s'] * len(fields))} FROM n RETURNING id, number)",
        ]
        params = ["ticket", *bulk.db_values(self, fields)]
        marked = ("subject", "body_text", "body_html")
        filled = "replace(replace(%s, %s, t.number::text), %s, t.id::text)"
        fields = bulk.insert_fields(OutgoingEmail, leave_out={"id", "ticket", *marked})
        for i, row in enumerate(rows):
            parts.append(
                f"o{i} AS (INSERT INTO {q(OutgoingEmail._meta.db_table)}"  # nosec B608
                f" (ticket_id, {', '.join(marked)}, {bulk.columns(fields)})"
                f" SELECT t.id, {', '.join([filled] * len(marked))},"
                f" {', '.join(['%s'] * len(fields))} FROM t RETURNING id)"
            )
            for name in marked:
                params += [getattr(row, name), mail.marks["number"], mail.marks["pk"]]
            params += bulk.db_values(row, fields)
        # Names from the models, every value a parameter (hence the nosec B608 marks).
        ids = "".join(f", (SELECT id FROM o{i})" for i in range(len(rows)))  # nosec B608
        sql = f"WITH {', '.join(parts)} SELECT t.id, t.number{ids} FROM t"  # nosec B608
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchone()
        if found is None:  # no counter row yet (a new database): make it, then again
            Sequence.objects.get_or_create(name="ticket")
            return self._insert_with_mail(mail)
        self.pk, self.number, *row_ids = found
        self._state.adding = False
        self._state.db = connection.alias
        # The outbox needs only their ids (it reads the rows back to send them).
        for row, pk in zip(rows, row_ids, strict=True):
            row.pk = pk
        emails.hand_over(rows)
        return None

    # What a verb reads to decide and then writes: never anything a form edits.
    STATE_FIELDS = [
        "status",
        "priority",
        "category",
        "assignee",
        "closed_at",
        "closed_by_system",
        "reply_count",
        "last_replier",
        "staff_due_at",
        "requester_due_at",
        "awaiting_information",
        "updated_at",
        "first_public_answer_at",
        "first_answer_by",
        "first_answer_business_hours",
        "resolution_business_hours",
    ]

    def _lock(self):
        """Re-read the ticket's state and hold its row until the verb's transaction ends.

        The caller's copy may be older than the row (a page loaded just before the
        cron closed the ticket, a bulk action's queryset, a colleague's reply).
        Deciding on that copy and saving it whole would undo what happened meanwhile:
        a priority change would put back an old status and requester deadline, a
        requester reply would record the wrong old status and drop the system reply
        from the count. One row, but the history and the replies must agree with it,
        hence the lock. SQLite ignores FOR UPDATE; its IMMEDIATE transactions
        serialise writers anyway.
        """
        self.refresh_from_db(
            from_queryset=Ticket.objects.select_for_update(), fields=self.STATE_FIELDS
        )

    def _save_state(self):
        self.save(update_fields=self.STATE_FIELDS)

    def record(self, field: str, old, new, *, actor=None, actor_kind: str = "agent") -> None:
        self._event(field, old, new, actor=actor, actor_kind=actor_kind).save(force_insert=True)

    def _event(self, field, old, new, *, actor=None, actor_kind="agent") -> "TicketEvent":
        """The history row ``record`` writes, unsaved (a batch writes many in one INSERT)."""
        # History is read by staff in the Spanish admin: store labels in Spanish
        # whatever language the requester who caused the change was browsing in.
        with translation.override(settings.LANGUAGE_CODE):
            old_value = str(old) if old is not None else ""
            new_value = str(new) if new is not None else ""
        return TicketEvent(
            ticket=self,
            actor=actor,
            actor_kind=actor_kind,
            field=field,
            old_value=old_value,
            new_value=new_value,
        )

    def _set_status(self, new, *, actor=None, actor_kind="agent", now=None):
        now = now or timezone.now()
        old = self.status
        if old == new:
            return
        self.status = new
        if new in FINISHED_STATUSES:
            # Resuelto ↔ Cerrado is the same resolution (the one the requester rates):
            # closed_at says when the ticket last finished, not when its label changed.
            if old not in FINISHED_STATUSES or self.closed_at is None:
                self.closed_at = now
            self.staff_due_at = None
            self.requester_due_at = None
            self.resolution_business_hours = self.business_hours_since_created(now)
        elif old in FINISHED_STATUSES:
            self.closed_at = None
            self.closed_by_system = False
            self.resolution_business_hours = None
        self.record(
            "status", Status(old).label, Status(new).label, actor=actor, actor_kind=actor_kind
        )

    def add_attachments(self, files, *, reply: "Reply | None" = None) -> None:
        for f in files:
            content_type = uploads.check_file(f)
            Attachment.objects.create(
                ticket=self,
                reply=reply,
                file=f,
                original_name=uploads.safe_display_name(f.name),
                size=f.size,
                content_type=content_type,
                sha256=uploads.sha256_of(f),
            )

    @transaction.atomic
    def add_requester_reply(
        self, *, message: str, files=(), ip_address=None, channel="web", author_name=""
    ) -> "Reply":
        """channel "email" for a reply that came by mail (tickets/inbound.py); author_name
        when staff attached a colleague's e-mail to the ticket."""
        self._lock()
        now = timezone.now()
        reply = Reply.objects.create(
            ticket=self,
            kind=Reply.Kind.REQUESTER,
            author_name=(author_name or self.name)[:150],
            message=message,
            ip_address=ip_address,
            created_at=now,
            channel=channel,
        )
        self.add_attachments(files, reply=reply)
        # A reply on a finished ticket reopens it: the requester is not done.
        self._set_status(Status.WAITING_STAFF, actor_kind="requester", now=now)
        self._start_staff_clock(now)
        self.reply_count += 1
        self.last_replier = reply.author_name[:100]
        self.updated_at = now
        self._save_state()
        emails.requester_replied(reply)
        return reply

    @transaction.atomic
    def add_agent_reply(self, *, user, message: str, kind: str = "public", files=()) -> "Reply":
        """kind: "public" (an answer), "information" (asks for missing data), "internal" (a note)."""
        if kind != "internal":
            self._lock()
        now = timezone.now()
        reply = Reply.objects.create(
            ticket=self,
            kind=Reply.Kind.AGENT,
            author=user,
            author_name=user_label(user),
            message=message,
            is_internal=kind == "internal",
            requests_information=kind == "information",
            created_at=now,
        )
        self.add_attachments(files, reply=reply)
        if kind == "internal":
            # Notes are for staff only: the requester's view of the ticket is unchanged.
            return reply
        self._set_status(Status.ANSWERED, actor=user, now=now)
        self._note_first_answer(user, now)
        self.staff_due_at = None
        self.requester_due_at = self.business_deadline(now, settings.REQUESTER_RESPONSE_HOURS)
        self.awaiting_information = kind == "information"
        self.reply_count += 1
        self.last_replier = reply.author_name
        self.updated_at = now
        self._save_state()
        if kind == "information":
            emails.information_requested(reply)
        else:
            emails.agent_replied(reply)
        return reply

    @transaction.atomic
    def mark_resolved(self, *, user=None) -> None:
        """By the requester ("Marcar como Resuelto") when user is None, else by an agent."""
        self._lock()
        if self.status == Status.RESOLVED:
            return
        now = timezone.now()
        self._set_status(
            Status.RESOLVED, actor=user, actor_kind="agent" if user else "requester", now=now
        )
        self.updated_at = now
        self._save_state()
        if user is not None:
            emails.ticket_resolved(self)

    @transaction.atomic
    def change(self, *, user, **fields) -> bool:
        """Agent edits of status, priority, category or assignee, each recorded."""
        self._lock()
        now = timezone.now()
        changed = False
        if "status" in fields and fields["status"] != self.status:
            new = fields["status"]
            was_finished = self.status in FINISHED_STATUSES
            self._set_status(new, actor=user, now=now)
            if new in STAFF_CLOCK_STATUSES and (was_finished or self.staff_due_at is None):
                self._start_staff_clock(now)
            elif new == Status.ON_HOLD:
                # Parked: nobody's clock runs.
                self.staff_due_at = None
                self.requester_due_at = None
            elif new == Status.ANSWERED and self.requester_due_at is None:
                # Set by hand (e.g. the answer went by phone): the requester's clock
                # starts now, so the ticket closes by itself like any answered one.
                self.staff_due_at = None
                self.requester_due_at = self.business_deadline(
                    now, settings.REQUESTER_RESPONSE_HOURS
                )
                self.awaiting_information = False
            if new == Status.RESOLVED:
                emails.ticket_resolved(self)
            elif new == Status.CLOSED:
                # Closed without a resolution is still news to the requester.
                emails.ticket_closed(self)
            changed = True
        if "priority" in fields and int(fields["priority"]) != self.priority:
            new = int(fields["priority"])
            self.record("priority", Priority(self.priority).label, Priority(new).label, actor=user)
            self.priority = new
            changed = True
        if "category" in fields and fields["category"].pk != self.category_id:
            self.record("category", self.category, fields["category"], actor=user)
            self.category = fields["category"]
            changed = True
        if (
            "assignee" in fields
            and (fields["assignee"].pk if fields["assignee"] else None) != self.assignee_id
        ):
            old = self.assignee
            self.record("assignee", user_label(old), user_label(fields["assignee"]), actor=user)
            self.assignee = fields["assignee"]
            if self.assignee and self.assignee != user:
                emails.ticket_assigned(self)
            changed = True
        if changed:
            self.updated_at = now
            # Only the state columns: an edit never rewrites the requester's deadline
            # (or anything else) from what this copy happened to hold.
            self._save_state()
        return changed

    @transaction.atomic
    def send(self, *, user, message: str = "", kind: str = "public", files=(), **fields):
        """The ticket page's one send: a reply (if any text) and the agent's field changes.

        ``fields`` holds only what the agent changed on the page. The reply moves the
        ticket as a reply does (a public one to Respondido); a status the agent chose
        is applied after it, so "answer and leave En curso" records both steps. One
        transaction: all of it is applied, or none. Returns (reply or None, changed).
        """
        reply = None
        if message:
            reply = self.add_agent_reply(user=user, message=message, kind=kind, files=files)
        changed = self.change(user=user, **fields) if fields else False
        return reply, changed

    @transaction.atomic
    def merge_into(self, main: "Ticket", *, user, requesters_share: bool = False) -> None:
        """Make this ticket (a duplicate) part of ``main``.

        Tickets of two different requesters (e-mail addresses) are merged only when
        staff confirm ``requesters_share``: afterwards each requester's tracking ID
        shows the other's name, address, messages and files (Ley 21.719: personal data
        shown to a third party needs a reason someone stands behind).

        Its message becomes a requester entry of ``main`` at its own date; its
        replies, files and history move there, so the main ticket's conversation and
        history read in date order. This ticket is left Cerrado and pointing at
        ``main`` (its tracking ID leads there); tickets merged into it before now
        point at ``main`` too, so there are never chains. Both rows are locked in pk
        order (two merges crossing each other wait instead of deadlocking).
        """
        if main.pk == self.pk:
            raise MergeError(_("Un ticket no se puede fusionar consigo mismo."))
        locked = {
            t.pk: t
            for t in Ticket.objects.select_for_update()
            .filter(pk__in=[self.pk, main.pk])
            .order_by("pk")
        }
        me, target = locked[self.pk], locked[main.pk]
        if me.merged_into_id is not None:
            raise MergeError(
                _("El ticket %(id)s ya fue fusionado en otro.") % {"id": me.tracking_id}
            )
        if target.merged_into_id is not None:
            # Covers "into a ticket it already contains": that one points at us.
            raise MergeError(
                _("El ticket %(id)s ya es parte de otro ticket; elija ese como principal.")
                % {"id": target.tracking_id}
            )
        if me.email.lower() != target.email.lower() and not requesters_share:
            raise MergeError(
                _(
                    "El ticket %(id)s es de otro solicitante (%(email)s): si se fusionan, cada "
                    "uno vería el nombre, el correo, los mensajes y los adjuntos del otro. "
                    "Confírmelo marcando la casilla o atienda cada ticket por separado."
                )
                % {"id": me.tracking_id, "email": me.email}
            )
        now = timezone.now()
        opening = Reply.objects.create(
            ticket=target,
            kind=Reply.Kind.REQUESTER,
            author_name=me.name,
            message=me.message,
            ip_address=me.ip_address,
            created_at=me.created_at,
        )
        Attachment.objects.filter(ticket=me, reply=None).update(ticket=target, reply=opening)
        # Internal notes are not in the count the requester's page shows.
        moved = Reply.objects.filter(ticket=me, is_internal=False).count()
        Reply.objects.filter(ticket=me).update(ticket=target)
        Attachment.objects.filter(ticket=me).update(ticket=target)
        TicketEvent.objects.filter(ticket=me).update(ticket=target)
        Ticket.objects.filter(merged_into=me).update(merged_into=target)
        label = f"#{me.number} {me.tracking_id}"
        me._set_status(Status.CLOSED, actor=user, now=now)
        me.merged_into = target
        me.updated_at = now
        me.save(update_fields=[*self.STATE_FIELDS, "merged_into"])
        target.record("merge", "", label, actor=user)
        target.reply_count = F("reply_count") + 1 + moved
        target.updated_at = now
        target.save(update_fields=["reply_count", "updated_at"])
        target.refresh_from_db(fields=["reply_count"])
        emails.ticket_merged(me, target)
        self.refresh_from_db()
        main.refresh_from_db()

    def close_stalled(self, now=None) -> bool:
        """Close this ticket if its requester never answered; False if someone got there first.

        ``close_stalled_batch`` of one ticket: six queries. Also False while another
        transaction holds the row (it is skipped, not waited for).
        """
        return bool(Ticket.close_stalled_batch([self], now or timezone.now()))

    # What closing a stalled ticket changes on the row, and so on the caller's copies.
    CLOSING_FIELDS = [
        "status",
        "closed_at",
        "closed_by_system",
        "staff_due_at",
        "requester_due_at",
        "updated_at",
        "reply_count",
        "last_replier",
        "resolution_business_hours",
    ]

    @classmethod
    def close_stalled_batch(cls, tickets: Iterable["Ticket"], now: datetime) -> list["Ticket"]:
        """Close the tickets whose requester never answered; return those this call closed.

        "Cerrado" when the last public agent reply asked for information, else
        "Resuelto", with a system reply, a history row and a notice each. A ticket
        closes only if its row is still what the caller's copy saw: "Respondido", due
        at ``now``, with the same deadline and the same kind of answer, so a requester
        reply or a new agent answer since the copy was read keeps it open.

        Written per batch, not per ticket (cron closes thousands at once): the lock,
        the extra days off (for the resolution times), the claim, and one INSERT each
        for the history, the system replies and the notices (on PostgreSQL a COPY,
        after one SELECT of their keys: ``tickets.bulk``). Six queries, however
        many tickets (on SQLite, Django splits an INSERT past 999 parameters: 76
        notices). All or nothing, in memory too: a failure rolls every ticket
        back and leaves the copies as they were, so the caller can try them one by
        one (close_stalled_tickets does, to find the one that fails).
        """
        tickets = list(tickets)
        before = [(t, {f: getattr(t, f) for f in cls.CLOSING_FIELDS}) for t in tickets]
        try:
            with transaction.atomic():
                return cls._close_stalled_locked(tickets, now)
        except BaseException:
            for t, fields in before:
                for f, value in fields.items():
                    setattr(t, f, value)
            raise

    @classmethod
    def _close_stalled_locked(cls, tickets, now) -> list["Ticket"]:
        if not tickets:
            return []
        # The claim: lock first, then update what we locked. A conditional UPDATE alone
        # says how many rows it changed, not which, and a re-read cannot tell our
        # closings from those of a run with the same clock. SKIP LOCKED: a row another
        # run is closing (or an agent is changing) is left to it, so two runs at once
        # never close a ticket twice or send two notices, and never wait for each
        # other; a ticket skipped because an agent held it closes on the next run.
        # NO KEY: a reply or an access-log row being written for the ticket (a key
        # share lock) is no reason to skip it. SQLite ignores FOR UPDATE, but its
        # IMMEDIATE transactions hold the write lock from the first statement: nobody
        # writes between this read and our UPDATE.
        rows = (
            cls.objects.select_for_update(skip_locked=True, no_key=True)
            .filter(pk__in=[t.pk for t in tickets], status=Status.ANSWERED)
            .filter(requester_due_at__lte=now)
            .order_by()
            .values_list("pk", "awaiting_information", "requester_due_at")
        )
        fresh = {pk: (info, due) for pk, info, due in rows}
        mine = [
            t for t in tickets if fresh.get(t.pk) == (t.awaiting_information, t.requester_due_at)
        ]
        if not mine:
            return []
        hours = cls._resolution_hours(mine, now)
        # One CASE of literal pairs rather than a When(pk=…) per ticket: Django resolves
        # each When's condition as a filter, and 200 of them were an eighth of the
        # command's CPU. Only numbers go in, as parameters.
        pk_column = ".".join(
            connection.ops.quote_name(n) for n in (cls._meta.db_table, cls._meta.pk.column)
        )
        resolution_hours = RawSQL(  # nosec
            f"CASE {pk_column}{' WHEN %s THEN %s' * len(hours)} END",
            [x for pair in hours.items() for x in pair],
            output_field=models.FloatField(),
        )
        claimed = cls.objects.filter(pk__in=hours, status=Status.ANSWERED).update(
            status=models.Case(
                models.When(awaiting_information=True, then=models.Value(Status.CLOSED)),
                default=models.Value(Status.RESOLVED),
                output_field=models.CharField(),
            ),
            closed_at=now,
            closed_by_system=True,
            staff_due_at=None,
            requester_due_at=None,
            updated_at=now,
            reply_count=F("reply_count") + 1,
            last_replier=settings.SITE_NAME,
            resolution_business_hours=resolution_hours,
        )
        if claimed != len(mine):
            # Every one of these rows is locked by us: this is a bug, not a race.
            raise RuntimeError(f"close_stalled: {claimed} of {len(mine)} locked tickets changed")
        for t in mine:
            t.status = Status.CLOSED if t.awaiting_information else Status.RESOLVED
            t.closed_at, t.closed_by_system = now, True
            t.staff_due_at = t.requester_due_at = None
            t.updated_at, t.last_replier = now, settings.SITE_NAME
            t.reply_count += 1
            t.resolution_business_hours = hours[t.pk]
        # The claim proves each row was "Respondido", whatever the copy said. The texts
        # are translated once per status (and language), not once per ticket: switching
        # the language costs more than the rest of a row.
        labels = {}
        for t in mine:
            if t.status not in labels:
                labels[t.status] = t._event("status", Status.ANSWERED.label, Status(t.status).label)
        bulk.insert(
            [
                TicketEvent(
                    ticket=t,
                    actor_kind="system",
                    field="status",
                    old_value=labels[t.status].old_value,
                    new_value=labels[t.status].new_value,
                )
                for t in mine
            ]
        )
        texts = {}
        for t in mine:
            if (t.language, t.status) not in texts:
                texts[t.language, t.status] = t._closed_automatically_text()
        bulk.insert(
            [
                Reply(
                    ticket=t,
                    kind=Reply.Kind.SYSTEM,
                    author_name=settings.SITE_NAME,
                    message=texts[t.language, t.status],
                    created_at=now,
                )
                for t in mine
            ]
        )
        emails.tickets_closed_automatically(mine)
        return mine

    def _closed_automatically_text(self) -> str:
        # Stored text, so written in the requester's language like the notice.
        with translation.override(self.language):
            if self.status == Status.CLOSED:
                return gettext(
                    "Ticket cerrado automáticamente: no recibimos la información solicitada dentro del plazo."
                )
            return gettext(
                "Ticket marcado como Resuelto automáticamente: no hubo respuesta dentro del plazo."
            )

    # An anonymized ticket's address is "anonimizado-<number>@invalid": no form
    # accepts a domain without a dot, so no real requester has it, and the outbox
    # refuses to send to it. It is also the mark that the work is done.
    ANONYMIZED_EMAIL_SUFFIX = "@invalid"

    def anonymize(self) -> int | None:
        """Erase the requester's personal data; keep what statistics need.

        Name, e-mail, IP, subject and message of the ticket; the text, IP and (for
        the requester's) author name of every reply; the attachments, files and
        rows; the ticket's outgoing e-mails; its ratings' comments (scores are kept).
        Kept: number, tracking ID, category,
        region, project number, status, priority, assignee, dates and history.

        Returns how many files were deleted, or None when the ticket was already
        anonymized (by an earlier or a concurrent run). Files are deleted inside the
        transaction, after the rows: if one cannot be deleted everything rolls
        back and the next run starts over (deleting a missing file is no error), so
        a failure never leaves personal data without the rows that point to it.
        """
        name, text = "Anonimizado", "[eliminado]"
        with transaction.atomic():
            row = (
                Ticket.objects.select_for_update()
                .filter(pk=self.pk)
                .values_list("name", "email", "last_replier")
                .first()
            )
            if row is None or row[1].endswith(self.ANONYMIZED_EMAIL_SUFFIX):
                return None
            old_name, _email, last_replier = row
            requester_replies = self.replies.filter(kind=Reply.Kind.REQUESTER)
            requester_names = {old_name, *requester_replies.values_list("author_name", flat=True)}
            attachments = Attachment.objects.filter(ticket=self)
            paths = [p for p in attachments.values_list("file", flat=True) if p]
            attachments.delete()
            requester_replies.update(author_name=name)
            self.replies.update(message=text, ip_address=None)
            self.emails.all().delete()
            # Inbound mail keeps the whole message (raw), so it goes with the ticket's data.
            self.inbound_emails.all().delete()
            self.ratings.update(comment="")
            # The access log keeps who opened the ticket, but not the requester's address.
            # Through the reverse relation: AccessLog's module imports this one.
            accesses = self.accesses
            accesses.filter(kind__in=accesses.model.PUBLIC_KINDS).update(ip_address=None)
            fields = {
                "name": name,
                "email": f"anonimizado-{self.number}{self.ANONYMIZED_EMAIL_SUFFIX}",
                "ip_address": None,
                "subject": text,
                "message": text,
                # HESK's log may name the requester ("reabierto por …"); dates stay in our columns.
                "hesk_history": "",
                "last_replier": name if last_replier in requester_names else last_replier,
            }
            Ticket.objects.filter(pk=self.pk).update(**fields)
            storage = Attachment._meta.get_field("file").storage
            for path in paths:
                storage.delete(path)
        for field, value in fields.items():
            setattr(self, field, value)
        return len(paths)


def user_label(user) -> str:
    """How staff names appear everywhere: full name, else the username."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


class Reply(models.Model):
    class Kind(models.TextChoices):
        REQUESTER = "requester", _("Solicitante")
        AGENT = "agent", _("Agente")
        SYSTEM = "system", _("Sistema")

    class Channel(models.TextChoices):
        WEB = "web", _("por el portal")
        EMAIL = "email", _("por correo")

    ticket = models.ForeignKey(
        Ticket, models.CASCADE, related_name="replies", verbose_name=_("ticket")
    )
    kind = models.CharField(_("autor"), max_length=10, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agente"),
    )
    author_name = models.CharField(_("nombre"), max_length=150)
    message = models.TextField(_("mensaje"))
    is_internal = models.BooleanField(_("nota interna"), default=False)
    requests_information = models.BooleanField(_("solicita información"), default=False)
    ip_address = models.GenericIPAddressField(_("dirección IP"), null=True, blank=True)
    created_at = models.DateTimeField(_("fecha"), default=timezone.now)
    # "r<id>" for a HESK reply, "n<id>" for a HESK note: what makes an import rerun idempotent.
    hesk_ref = models.CharField(
        _("referencia HESK"), max_length=20, null=True, blank=True, unique=True, editable=False
    )
    channel = models.CharField(
        _("canal"), max_length=8, choices=Channel.choices, default=Channel.WEB
    )

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("respuesta")
        verbose_name_plural = _("respuestas")
        indexes = [models.Index(fields=["ticket", "created_at"], name="reply_ticket_created")]

    def __str__(self):
        return f"{self.ticket} · {self.author_name} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def label(self) -> str:
        """What kind of entry this is, as the conversation shows it to staff."""
        if self.kind != self.Kind.AGENT:
            return self.get_kind_display()
        if self.is_internal:
            return gettext("Nota interna")
        if self.requests_information:
            return gettext("Solicitud de información")
        return gettext("Respuesta pública")


class Attachment(models.Model):
    ticket = models.ForeignKey(
        Ticket, models.CASCADE, related_name="attachments", verbose_name=_("ticket")
    )
    # Empty for files sent with the ticket itself.
    reply = models.ForeignKey(
        Reply,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("respuesta"),
    )
    file = models.FileField(_("archivo"), upload_to=uploads.random_storage_name, max_length=200)
    original_name = models.CharField(_("nombre original"), max_length=200)
    size = models.PositiveBigIntegerField(_("tamaño"))
    content_type = models.CharField(_("tipo"), max_length=100)
    sha256 = models.CharField("SHA-256", max_length=64)
    created_at = models.DateTimeField(_("fecha"), default=timezone.now)
    # HESK's att_id: old download links name the file by it (tickets/views/hesk_links.py).
    hesk_id = models.PositiveIntegerField(
        _("ID en HESK"), null=True, blank=True, unique=True, editable=False
    )

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("adjunto")
        verbose_name_plural = _("adjuntos")

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse("tickets:attachment", args=[self.ticket.tracking_id, self.pk])


class TicketEvent(models.Model):
    """One change of status, priority, category or assignee: who, when, from what, to what."""

    ticket = models.ForeignKey(
        Ticket, models.CASCADE, related_name="events", verbose_name=_("ticket")
    )
    created_at = models.DateTimeField(_("fecha"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("usuario"),
    )
    actor_kind = models.CharField(_("origen"), max_length=10, default="agent")
    field = models.CharField(_("campo"), max_length=20)
    old_value = models.CharField(_("valor anterior"), max_length=150, blank=True)
    new_value = models.CharField(_("valor nuevo"), max_length=150, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("cambio")
        verbose_name_plural = _("historial")
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="event_ticket_created"),
            # The reports count status changes in a date range.
            models.Index(fields=["field", "created_at"], name="event_field_created"),
        ]

    def __str__(self):
        return f"{self.field}: {self.old_value} → {self.new_value}"

    @property
    def actor_label(self) -> str:
        if self.actor_id:
            return user_label(self.actor)
        if self.actor_kind in (Reply.Kind.REQUESTER, Reply.Kind.SYSTEM):
            return Reply.Kind(self.actor_kind).label
        return ""

    @property
    def field_label(self) -> str:
        return {
            "status": gettext("Estado"),
            "priority": gettext("Prioridad"),
            "category": gettext("Categoría"),
            "assignee": gettext("Asignado a"),
            "merge": gettext("Ticket fusionado"),
        }.get(self.field, self.field)
