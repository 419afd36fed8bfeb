"""Sending what the outbox holds: claim one row, send it, record what happened.

Rows are claimed with a conditional UPDATE that must change exactly one row, so
two senders (two cron runs, or cron and the after-commit thread) never send the
same message twice, on SQLite and PostgreSQL alike.
"""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection
from django.db.models import F
from django.utils import timezone

from tickets.models import OutgoingEmail

log = logging.getLogger(__name__)
# A claimed row whose sender died is picked up again after this long.
LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 12

State = OutgoingEmail.State


def claim(msg: OutgoingEmail, now) -> bool:
    claimed = OutgoingEmail.objects.filter(
        pk=msg.pk,
        attempts=msg.attempts,
        state__in=[State.QUEUED, State.SENDING],
        next_attempt_at__lte=now,
    ).update(state=State.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + LEASE)
    if claimed == 1:
        msg.attempts += 1
        msg.state = State.SENDING
        return True
    return False


def deliver(msg: OutgoingEmail, smtp=None) -> bool:
    """Send a claimed row; True if the server accepted it."""
    email = EmailMultiAlternatives(
        subject=msg.subject,
        body=msg.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[msg.to],
        connection=smtp,
    )
    if msg.body_html:
        email.attach_alternative(msg.body_html, "text/html")
    now = timezone.now()
    try:
        email.send()
    except Exception as exc:  # any failure of the mail server is data on the row, not a crash
        gave_up = msg.attempts >= MAX_ATTEMPTS
        msg.state = State.FAILED if gave_up else State.QUEUED
        msg.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        msg.next_attempt_at = now + msg.retry_delay()
        msg.save(update_fields=["state", "last_error", "next_attempt_at"])
        log.warning("outbox: message %s attempt %s failed: %s", msg.pk, msg.attempts, type(exc).__name__)
        return False
    msg.state = State.SENT
    msg.sent_at = now
    msg.last_error = ""
    msg.save(update_fields=["state", "sent_at", "last_error"])
    return True


def send_due(limit=None, now=None) -> tuple[int, int]:
    """Send what is due, one claimed row at a time. Returns (sent, failed)."""
    sent = failed = 0
    smtp = get_connection(fail_silently=False)
    try:
        while limit is None or sent + failed < limit:
            now_ = now or timezone.now()
            msg = (
                OutgoingEmail.objects.filter(state__in=[State.QUEUED, State.SENDING], next_attempt_at__lte=now_)
                .order_by("next_attempt_at", "pk")
                .first()
            )
            if msg is None:
                break
            if not claim(msg, now_):
                continue  # another sender took it
            if deliver(msg, smtp):
                sent += 1
            else:
                failed += 1
    finally:
        try:
            smtp.close()
        except Exception:  # closing a broken connection must not hide the counts
            log.debug("outbox: closing the SMTP connection failed", exc_info=True)
    return sent, failed


def send_ids(ids):
    now = timezone.now()
    for msg in OutgoingEmail.objects.filter(pk__in=ids, state=State.QUEUED):
        if claim(msg, now):
            deliver(msg)


def send_soon(ids):
    """After commit: try at once in the background; cron is the safety net."""

    def run():
        try:
            send_ids(ids)
        except Exception:
            log.exception("outbox: background send failed; cron will retry")
        finally:
            connection.close()

    threading.Thread(target=run, name="outbox-send", daemon=True).start()
