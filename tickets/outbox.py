"""Sending what the outbox holds: claim a batch of rows, send them, record what happened.

A message leaves in one of three ways, all through ``send_due``:

1. **After commit, in this process.** ``emails._queue`` calls ``after_commit(ids)``;
   once the change's transaction commits, ``send_soon`` hands the ids to one
   long-lived sender thread per process, so mail goes out in seconds and a slow
   mail server never slows the page. What several changes hand over within
   ``GATHER_SECONDS`` goes out together. ``EMAIL_SEND_ON_COMMIT=0`` turns this off for
   the whole process; ``deferred_to_cron()`` turns it off for a block of code (the
   cron commands, whose short life would kill the thread half-way).
2. **By cron.** ``send_queued_mail`` every minute sends whatever is due: what the
   thread missed, retries, and everything queued while deferred.
3. **Inline** (``OUTBOX_SEND_INLINE=True``, tests only): ``send_soon`` sends in the
   caller's thread, so a test sees the SMTP conversation before it goes on.

Rows are claimed a batch at a time (the after-commit sender's few rows at once,
cron's ``BATCH`` at a time) by one conditional UPDATE that returns the rows it
claimed, so two senders (two cron runs, or cron and the after-commit thread)
never send the same message twice, on SQLite and PostgreSQL alike. The rows a
batch sent are recorded together by one UPDATE when the batch ends; a failure is
recorded on its row at once; rows claimed but not tried because the run stopped
early are given back at once, their attempt not spent. A lost database
connection (a failover, a restart) costs a reconnect, not a message: each claim
and each record is retried on a fresh connection (tickets/dbfaults.py), and
above all the sent state, since the server has the messages by then. The race
we accept: a sender that *dies* (or a database down longer than the retries)
after the server took a batch's messages but before it recorded them leaves
those rows "sending"; once the lease runs out the batch is sent again. Losing a
message would be worse than sending a batch twice after a crash.
"""

import contextvars
import logging
import os
import queue
import re
import smtplib
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid, parseaddr
from functools import partial, reduce
from operator import or_
from time import monotonic

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from tickets import dbfaults
from tickets.models.outgoing_email import OutgoingEmail

log = logging.getLogger(__name__)
# A claimed row whose sender died is picked up again after this long.
LEASE = timedelta(minutes=10)
# With retry_delay() that is about a day of retries before a row is "failed".
MAX_ATTEMPTS = 12
# Rows claimed at a time. A sender that dies between sending a batch and recording
# it sends the batch again after the lease, and a slow mail server holds no more
# rows leased than this: small. Large enough that a statement is not spent per row.
BATCH = 20
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


def _ours(msgs) -> Q:
    """Our claim on these rows: each one's id with the attempt number our claim gave it."""
    by_attempt = defaultdict(list)
    for msg in msgs:
        by_attempt[msg.attempts].append(msg.pk)
    return reduce(or_, (Q(attempts=n, pk__in=pks) for n, pks in by_attempt.items()))


def _which(msgs) -> str:
    pks = ", ".join(str(m.pk) for m in msgs)
    return f"messages {pks}" if len(msgs) > 1 else f"message {pks}"


def claim(now, n, ids=None) -> list[OutgoingEmail]:
    """Claim up to ``n`` rows due at ``now`` (only among ``ids`` if given), oldest first.

    One statement picks the rows, claims them and returns them claimed, so two
    senders never send the same row. The pick takes the oldest due rows (on
    PostgreSQL locking them and skipping rows another sender is claiming right
    now, so neither waits for the other); the UPDATE's own WHERE repeats the
    condition, so a row another sender claimed between our read and our write
    (READ COMMITTED re-checks a changed row against it) is left out instead of
    claimed a second time.
    """
    due = OutgoingEmail.objects.filter(state__in=PENDING, next_attempt_at__lte=now)
    pick = due if ids is None else due.filter(pk__in=ids)
    pick = pick.order_by("next_attempt_at", "pk").values("pk")[:n]
    pick_sql, pick_params = pick.query.get_compiler(connection=connection).as_sql()
    if connection.features.has_select_for_update_skip_locked:
        # Written out: the ORM refuses select_for_update() outside a transaction,
        # and this one statement is its own transaction.
        pick_sql += " " + connection.ops.for_update_sql(skip_locked=True)
    meta = OutgoingEmail._meta
    qn = connection.ops.quote_name
    pk, state, attempts, next_at = (
        qn(meta.get_field(name).column) for name in ("id", "state", "attempts", "next_attempt_at")
    )
    when = partial(meta.get_field("next_attempt_at").get_db_prep_value, connection=connection)
    # The pick is a MATERIALIZED CTE, not "id IN (SELECT … LIMIT n)": PostgreSQL may
    # run such a subquery again for each row of a nested loop, and each new run
    # skips the rows this statement has already updated, so the LIMIT took every
    # due row (seen on a small table). Run once, it claims at most n.
    sql = (
        # Names from the model, the pick from the ORM, every value a parameter.
        f"WITH picked (id) AS MATERIALIZED ({pick_sql}) "  # nosec B608
        f"UPDATE {qn(meta.db_table)} SET {state} = %s, {attempts} = {attempts} + 1, {next_at} = %s "
        f"WHERE {pk} IN (SELECT id FROM picked) AND {state} IN (%s, %s) AND {next_at} <= %s "
        f"RETURNING {', '.join(qn(f.column) for f in meta.concrete_fields)}"
    )
    params = [*pick_params, State.SENDING.value, when(now + LEASE), *PENDING, when(now)]
    # Retried on a fresh connection. A claim that committed just before the cut is
    # not seen by the retry (its rows are no longer due), so those rows wait for
    # their lease and are sent late, never twice: the trade the per-row claim made
    # too. raw() builds the instances (from_db, with the backend's converters) and
    # runs the statement each time it is iterated: list() iterates it once.
    claimed = dbfaults.reconnecting(
        lambda: list(OutgoingEmail.objects.raw(sql, params)),
        what="outbox: claiming due messages",
    )
    # RETURNING's order is unspecified; every claimed row now has the same
    # next_attempt_at, so the id is what is left of the queue's order.
    return sorted(claimed, key=lambda m: m.pk)


def _record(msgs, **fields):
    # Conditional on our claim: if the lease ran out and another sender took
    # a row meanwhile, its outcome is the one that counts. The same condition
    # makes it safe to repeat after a lost connection.
    for msg in msgs:
        for k, v in fields.items():
            setattr(msg, k, v)
    q = OutgoingEmail.objects.filter(_ours(msgs))
    try:
        dbfaults.reconnecting(
            lambda: q.update(**fields),
            what=f"outbox: recording {_which(msgs)} as {fields['state']}",
            backoff=RECORD_BACKOFF,
        )
    except dbfaults.LOST:
        if fields["state"] != State.SENT:
            then = "it is tried again when its lease runs out"
        elif len(msgs) > 1:
            then = "the server has them, so they go again when their lease runs out"
        else:
            then = "the server has it, so it goes again when its lease runs out"
        log.error("outbox: %s: could not record state %s; %s", _which(msgs), fields["state"], then)
        raise


def _release(msgs, due_at):
    """Give back claimed rows this run will not try: due at once, their attempt not spent.

    ``due_at`` is the claim's time: no later than when they fell due, so they keep
    their place ahead of rows that fell due since.
    """
    if not msgs:
        return
    # Conditional on our claim, like _record, and so safe to repeat after a cut.
    q = OutgoingEmail.objects.filter(_ours(msgs), state=State.SENDING)
    try:
        dbfaults.reconnecting(
            lambda: q.update(
                state=State.QUEUED, attempts=F("attempts") - 1, next_attempt_at=due_at
            ),
            what=f"outbox: giving back {_which(msgs)}",
        )
    except dbfaults.LOST:
        log.error(
            "outbox: %s: could not give back; they go when their lease runs out", _which(msgs)
        )
        raise


def deliver(msg: OutgoingEmail, smtp=None) -> bool:
    """Send a claimed row; True if the server accepted it. Never raises for a mail error.

    A failure is recorded on the row here; a success is recorded by the caller,
    with the rest of its batch.
    """
    problem = recipient_problem(msg.to)
    if problem:
        _record([msg], state=State.FAILED, last_error=problem)
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
            [msg],
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
    return True


def _close(smtp):
    try:
        smtp.close()
    except Exception:  # a broken connection must not hide the counts
        log.debug("outbox: closing the SMTP connection failed", exc_info=True)


def _open(run: Run):
    """An open SMTP connection, or None (``run.unreachable`` says why) if the server is out of reach."""
    smtp = get_connection(fail_silently=False)
    try:
        smtp.open()
    except Exception as exc:
        log.warning("outbox: cannot reach the mail server; messages stay queued", exc_info=True)
        run.unreachable = f"{type(exc).__name__}: {exc}"[:200]
        _close(smtp)
        return None
    return smtp


def _anything_due() -> bool:
    q = OutgoingEmail.objects.filter(state__in=PENDING, next_attempt_at__lte=timezone.now())
    return dbfaults.reconnecting(q.exists, what="outbox: looking for due messages")


def _send_batch(batch, smtp, run: Run, stop_at, claimed_at):
    """Send claimed rows over ``smtp``; return the connection to go on with and whether to stop.

    The sent rows are recorded together, in one UPDATE, when the batch ends, however
    it ends; rows not tried (time is up, the server went away) are given back at once.
    """
    sent, tried, stop = [], 0, False
    try:
        for msg in batch:
            # The batch's first row had its time checked before the claim.
            if tried and stop_at is not None and monotonic() >= stop_at:
                stop = True
                break
            if smtp is None:
                smtp = _open(run)
                if smtp is None:
                    stop = True
                    break
            # A row whose delivery raised is left to its lease: whether the server
            # took it is unknown.
            tried += 1
            if deliver(msg, smtp):
                sent.append(msg)
                run.sent += 1
            else:
                run.failed += 1
                # The session may be dead (a 421, a timeout): the next row gets a fresh one.
                _close(smtp)
                smtp = None
    finally:
        # First, and with the longest retries: the server has these. sent_at is
        # the batch's end, seconds after the first of them was sent.
        if sent:
            _record(sent, state=State.SENT, sent_at=timezone.now(), last_error="")
        _release(batch[tried:], claimed_at)
    return smtp, stop


def send_due(*, limit=None, max_seconds=None, ids=None) -> Run:
    """Send what is due, a claimed batch at a time, over one SMTP connection.

    Stops after ``limit`` rows, after ``max_seconds``, when nothing is due, or
    when the mail server cannot be reached: the connection is opened before a
    batch is claimed, so an outage claims nothing and spends none of their attempts.
    """
    run = Run()
    stop_at = monotonic() + max_seconds if max_seconds else None
    wanted = None if ids is None else set(ids)
    # Cron looks before it connects: a run with nothing due opens no SMTP connection.
    # The after-commit sender's rows were committed a moment ago, so it connects at once.
    if wanted is None and not _anything_due():
        return run
    smtp = None
    try:
        while True:
            n = BATCH
            if limit is not None:
                n = min(n, limit - run.sent - run.failed)
            if wanted is not None:
                n = min(n, len(wanted))
            if n <= 0:
                break
            if stop_at is not None and monotonic() >= stop_at:
                break
            if smtp is None:
                smtp = _open(run)
                if smtp is None:
                    break
            now = timezone.now()
            batch = claim(now, n, wanted)
            if wanted is not None:
                wanted.difference_update(m.pk for m in batch)
            smtp, stop = _send_batch(batch, smtp, run, stop_at, now)
            # A short batch was all that was due when it was claimed: what fell due
            # since waits for the next run.
            if stop or len(batch) < n:
                break
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
# After a batch arrives the sender waits this long for others, and sends them all with
# one claim and one record: under load every submission handed its own two rows over,
# and their claims and records were a sixth of a submission's CPU (issue 17). Mail
# leaves at most this much later.
GATHER_SECONDS = 0.05


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
        batches = _gathered(batch)
        try:
            # The connection kept from the last batch may have died since (a
            # failover while idle, or an error in that batch): a fresh one, or
            # every later batch would fail on it until the queue runs dry.
            dbfaults.ensure_usable_connection()
            send_ids([pk for b in batches for pk in b.ids])
        except Exception:
            log.exception("outbox: background send failed; cron will retry")
        finally:
            for b in batches:
                b.done.set()


def _gathered(first: _Batch) -> list[_Batch]:
    """``first`` and the batches that arrive within GATHER_SECONDS, up to BATCH rows."""
    batches, rows = [first], len(first.ids)
    until = monotonic() + GATHER_SECONDS
    while rows < BATCH:
        left = until - monotonic()
        try:
            more = _pending.get(timeout=left) if left > 0 else _pending.get_nowait()
        except queue.Empty:
            break
        batches.append(more)
        rows += len(more.ids)
    return batches


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
