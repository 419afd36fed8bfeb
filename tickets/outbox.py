"""Sending what the outbox holds: claim one row, send it, record what happened.

A message leaves in one of three ways, all through ``send_due``:

1. **After commit, in this process.** ``emails._queue`` calls ``after_commit(ids)``;
   once the change's transaction commits, ``send_soon`` hands the ids to one
   long-lived sender thread per process, so mail goes out in seconds and a slow
   mail server never slows the page. ``EMAIL_SEND_ON_COMMIT=0`` turns this off for
   the whole process; ``deferred_to_cron()`` turns it off for a block of code (the
   cron commands, whose short life would kill the thread half-way).
2. **By cron.** ``send_queued_mail`` every minute sends whatever is due: what the
   thread missed, retries, and everything queued while deferred.
3. **Inline** (``OUTBOX_SEND_INLINE=True``, tests only): ``send_soon`` sends in the
   caller's thread, so a test sees the SMTP conversation before it goes on.

Rows are claimed with a conditional UPDATE that must change exactly one row, so
two senders (two cron runs, or cron and the after-commit thread) never send the
same message twice, on SQLite and PostgreSQL alike. A lost database connection
(a failover, a restart) costs a reconnect, not a message: each claim, each
record and each batch read is retried on a fresh connection (tickets/dbfaults.py),
and above all the sent state, since the server has the message by then. The
race we accept: a sender that *dies* (or a database down longer than the
retries) after the server took a message but before it recorded that leaves
the row "sending"; once the lease runs out it is sent again. Losing a message
would be worse than sending one twice after a crash.
"""

import contextvars
import logging
import os
import queue
import re
import smtplib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid, parseaddr
from functools import partial
from time import monotonic

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from tickets import dbfaults
from tickets.models.outgoing_email import OutgoingEmail

log = logging.getLogger(__name__)
# A claimed row whose sender died is picked up again after this long.
LEASE = timedelta(minutes=10)
# With retry_delay() that is about a day of retries before a row is "failed".
MAX_ATTEMPTS = 12
BATCH = 100
# Recording a sent message waits longer for the database than other steps (about
# 7 s in all): giving up there means the message goes out a second time.
RECORD_BACKOFF = (0.05, 0.25, 1.0, 2.0, 4.0)

State = OutgoingEmail.State
PENDING = [State.QUEUED, State.SENDING]
# A recipient is one bare address: no display name, no list, no line break.
# Quoted local parts ("a,b"@x.cl) are valid e-mail but never needed here.
NOT_IN_AN_ADDRESS = re.compile(r'[\x00-\x1f\x7f,;<>"\s]')


def recipient_problem(to: str) -> str:
    """Why ``to`` cannot be a recipient, or "" if it is exactly one plain address."""
    if not to or len(to) > 254 or NOT_IN_AN_ADDRESS.search(to):
        return "Destinatario inválido: debe ser una sola dirección de correo, sin saltos de línea, comas ni punto y coma."
    try:
        validate_email(to)
    except ValidationError:
        return "Destinatario inválido: no es una dirección de correo válida."
    return ""


def new_message_id() -> str:
    """A Message-ID in the desk's own domain, stored on the row so replies can be matched."""
    address = settings.INBOUND_EMAIL_ADDRESS or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return make_msgid(domain=address.rpartition("@")[2] or "localhost")


def headers_for(msg: OutgoingEmail) -> dict:
    # Auto-Submitted and X-Auto-Response-Suppress ask out-of-office responders
    # (RFC 3834; Exchange) not to answer: a loop is stopped at its source.
    headers = {
        "Message-ID": msg.message_id,
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    if settings.INBOUND_EMAIL_ADDRESS:
        headers["Reply-To"] = settings.INBOUND_EMAIL_ADDRESS
    return headers


@dataclass
class Run:
    sent: int = 0
    failed: int = 0
    # Set when the run stopped because the mail server could not be reached.
    unreachable: str = ""


def claim(msg: OutgoingEmail, now) -> bool:
    q = OutgoingEmail.objects.filter(
        pk=msg.pk,
        attempts=msg.attempts,
        state__in=PENDING,
        next_attempt_at__lte=now,
    )
    # Retried on a fresh connection: conditional on the attempt number, so a
    # claim that committed just before the cut makes the retry change nothing,
    # and the row waits for its lease (sent late, never twice).
    claimed = dbfaults.reconnecting(
        lambda: q.update(
            state=State.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + LEASE
        ),
        what=f"outbox: claiming message {msg.pk}",
    )
    if claimed == 1:
        msg.attempts += 1
        msg.state = State.SENDING
        return True
    return False


def _record(msg, **fields):
    # Conditional on our claim: if the lease ran out and another sender took
    # the row meanwhile, its outcome is the one that counts. The same condition
    # makes it safe to repeat after a lost connection.
    for k, v in fields.items():
        setattr(msg, k, v)
    q = OutgoingEmail.objects.filter(pk=msg.pk, attempts=msg.attempts)
    try:
        dbfaults.reconnecting(
            lambda: q.update(**fields),
            what=f"outbox: recording message {msg.pk} as {fields['state']}",
            backoff=RECORD_BACKOFF,
        )
    except dbfaults.LOST:
        log.error(
            "outbox: message %s: could not record state %s; %s",
            msg.pk,
            fields["state"],
            "the server has it, so it goes again when its lease runs out"
            if fields["state"] == State.SENT
            else "it is tried again when its lease runs out",
        )
        raise


def deliver(msg: OutgoingEmail, smtp=None) -> bool:
    """Send a claimed row; True if the server accepted it. Never raises for a mail error."""
    problem = recipient_problem(msg.to)
    if problem:
        _record(msg, state=State.FAILED, last_error=problem)
        log.warning("outbox: message %s not sent: invalid recipient", msg.pk)
        return False
    if not msg.message_id:  # a row queued before Message-IDs were stored
        msg.message_id = new_message_id()
        OutgoingEmail.objects.filter(pk=msg.pk).update(message_id=msg.message_id)
    email = EmailMultiAlternatives(
        subject=msg.subject,
        body=msg.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[msg.to],
        connection=smtp,
        headers=headers_for(msg),
    )
    if msg.body_html:
        email.attach_alternative(msg.body_html, "text/html")
    try:
        email.send()
    except Exception as exc:  # any failure is data on the row, not a crash of the run
        now = timezone.now()
        gave_up = msg.attempts >= MAX_ATTEMPTS
        _record(
            msg,
            state=State.FAILED if gave_up else State.QUEUED,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            next_attempt_at=now + msg.retry_delay(),
        )
        # SMTP errors quote the recipient, so their text stays on the row (which
        # staff see in admin) and the log gets the row id; anything else is a bug
        # and gets its traceback.
        expected = isinstance(exc, (smtplib.SMTPException, OSError))
        log.warning(
            "outbox: message %s attempt %s failed (%s)%s",
            msg.pk,
            msg.attempts,
            type(exc).__name__,
            ", giving up" if gave_up else "",
            exc_info=not expected,
        )
        return False
    _record(msg, state=State.SENT, sent_at=timezone.now(), last_error="")
    return True


def _close(smtp):
    try:
        smtp.close()
    except Exception:  # a broken connection must not hide the counts
        log.debug("outbox: closing the SMTP connection failed", exc_info=True)


def _due(ids=None):
    """Due rows, oldest first, read a batch at a time: one sort per batch, not per row."""
    while True:
        q = OutgoingEmail.objects.filter(state__in=PENDING, next_attempt_at__lte=timezone.now())
        if ids is not None:
            q = q.filter(pk__in=ids)
        # Rows sent or failed in this run are no longer due (a failed one waits
        # for its next_attempt_at), so the next batch never repeats them.
        q = q.order_by("next_attempt_at", "pk")[:BATCH]
        batch = dbfaults.reconnecting(partial(list, q), what="outbox: reading due messages")
        yield from batch
        # A short batch was all that was due when it was read: no second read to learn
        # that (the after-commit sender's batches are short). What fell due since waits
        # for the next run.
        if len(batch) < BATCH:
            return


def send_due(*, limit=None, max_seconds=None, ids=None) -> Run:
    """Send what is due, one claimed row at a time, over one SMTP connection.

    Stops after ``limit`` rows, after ``max_seconds``, when nothing is due, or
    when the mail server cannot be reached: then no row is claimed, so an outage
    spends none of their attempts.
    """
    run = Run()
    stop_at = monotonic() + max_seconds if max_seconds else None
    smtp = None
    try:
        for msg in _due(ids):
            if limit is not None and run.sent + run.failed >= limit:
                break
            if stop_at is not None and monotonic() >= stop_at:
                break
            if smtp is None:
                smtp = get_connection(fail_silently=False)
                try:
                    smtp.open()
                except Exception as exc:
                    log.warning(
                        "outbox: cannot reach the mail server; messages stay queued", exc_info=True
                    )
                    run.unreachable = f"{type(exc).__name__}: {exc}"[:200]
                    _close(smtp)
                    smtp = None
                    break
            if not claim(msg, timezone.now()):
                continue  # another sender took it, or it changed since we read it
            if deliver(msg, smtp):
                run.sent += 1
            else:
                run.failed += 1
                # The session may be dead (a 421, a timeout): the next row gets a fresh one.
                _close(smtp)
                smtp = None
    finally:
        if smtp is not None:
            _close(smtp)
    return run


def send_ids(ids) -> Run | None:
    """Try to send these rows now. Never raises: cron is the safety net."""
    try:
        return send_due(ids=ids, max_seconds=settings.EMAIL_TIMEOUT or 10)
    except Exception:
        log.exception("outbox: sending after commit failed; cron will retry")
        return None


class _Batch:
    """Ids handed to the sender thread; join() waits until it has tried them."""

    def __init__(self, ids):
        self.ids = list(ids)
        self.done = threading.Event()

    def join(self, timeout=None):
        return self.done.wait(timeout)


_pending: "queue.SimpleQueue[_Batch]" = queue.SimpleQueue()
_sender = {"thread": None, "pid": None}
_sender_lock = threading.Lock()
# The sender keeps its database connection this long after its last batch. Closing it
# as soon as the queue was empty cost a new PostgreSQL connection (a server process
# started and ended) for nearly every submission under load, since the queue empties
# between two (issue 17); a site with nothing to send still holds none for long.
IDLE_SECONDS = 30.0


def _sender_loop():
    idle = None
    while True:
        try:
            batch = _pending.get(timeout=idle)
        except queue.Empty:
            connection.close()
            idle = None
            continue
        idle = IDLE_SECONDS
        try:
            # The connection kept from the last batch may have died since (a
            # failover while idle, or an error in that batch): a fresh one, or
            # every later batch would fail on it until the queue runs dry.
            dbfaults.ensure_usable_connection()
            send_ids(batch.ids)
        except Exception:
            log.exception("outbox: background send failed; cron will retry")
        finally:
            batch.done.set()


def send_soon(ids):
    """After commit: try at once so mail arrives in seconds, not at the next cron run.

    One long-lived sender thread per process, fed by a queue: a slow mail server
    never slows the page, and a submission does not pay for a new thread and a new
    database connection (benchmarks/RESULTS.md measured that at half the POST's
    latency). OUTBOX_SEND_INLINE runs it in the caller instead (tests).
    """
    if getattr(settings, "OUTBOX_SEND_INLINE", False):
        send_ids(ids)
        return None
    batch = _Batch(ids)
    with _sender_lock:
        thread = _sender["thread"]
        # After a fork (gunicorn workers) the parent's thread does not exist here.
        if thread is None or not thread.is_alive() or _sender["pid"] != os.getpid():
            thread = threading.Thread(target=_sender_loop, name="outbox-send", daemon=True)
            thread.start()
            _sender.update(thread=thread, pid=os.getpid())
    _pending.put(batch)
    return batch


_deferred = contextvars.ContextVar("outbox_deferred", default=False)


@contextmanager
def deferred_to_cron() -> Iterator[None]:
    """Inside this block, queued messages wait for ``send_queued_mail``: no after-commit send."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


def after_commit(ids: list[int]) -> None:
    """Try to send these freshly queued rows once the current transaction commits."""
    if ids and settings.EMAIL_SEND_ON_COMMIT and not _deferred.get():
        transaction.on_commit(lambda: send_soon(ids))
