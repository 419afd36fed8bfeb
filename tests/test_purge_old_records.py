"""purge_old_records: sent e-mails and access-log rows past their retention period."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tickets.models import AccessLog, OutgoingEmail

State = OutgoingEmail.State


def purge(*args):
    out = StringIO()
    call_command("purge_old_records", *args, stdout=out)
    return out.getvalue().strip()


def mail(days_ago, state=State.SENT):
    when = timezone.now() - timedelta(days=days_ago)
    return OutgoingEmail.objects.create(
        kind="agent_replied",
        to="alicia@desarrollosocial.gob.cl",
        subject="s",
        body_text="t",
        state=state,
        created_at=when,
        sent_at=when if state == State.SENT else None,
    )


def access(ticket, days_ago):
    return AccessLog.objects.create(
        ticket=ticket,
        kind=AccessLog.Kind.PUBLIC_VIEW,
        ip_address="200.1.2.3",
        created_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.fixture
def records(ticket):
    OutgoingEmail.objects.all().delete()  # the ticket's own notices, just queued
    return {
        "old_sent": mail(91),
        "recent_sent": mail(89),
        "old_queued": mail(200, State.QUEUED),
        "old_failed": mail(200, State.FAILED),
        "old_access": access(ticket, 731),
        "recent_access": access(ticket, 729),
    }


def left():
    return set(OutgoingEmail.objects.values_list("pk", flat=True)), set(
        AccessLog.objects.values_list("pk", flat=True)
    )


def test_it_deletes_exactly_the_sent_emails_and_accesses_past_their_period(records):
    r = records
    assert purge() == (
        "deleted 1 e-mails and 1 access-log rows "
        "(e-mails sent over 90 days ago, access-log rows over 730 days old)"
    )
    assert left() == (
        {r["recent_sent"].pk, r["old_queued"].pk, r["old_failed"].pk},
        {r["recent_access"].pk},
    )


def test_a_second_run_finds_nothing_to_do(records):
    purge()
    before = left()
    assert purge().startswith("deleted 0 e-mails and 0 access-log rows")
    assert left() == before


def test_the_dry_run_counts_and_deletes_nothing(records):
    before = left()
    assert purge("--dry-run") == (
        "would delete 1 e-mails and 1 access-log rows "
        "(e-mails sent over 90 days ago, access-log rows over 730 days old); dry run, nothing changed"
    )
    assert left() == before


def test_the_periods_come_from_the_settings(records, settings):
    settings.SENT_EMAIL_RETENTION_DAYS = 30
    settings.ACCESS_LOG_RETENTION_DAYS = 800
    assert purge().startswith("deleted 2 e-mails and 0 access-log rows")
    assert AccessLog.objects.count() == 2


def test_it_deletes_in_batches_until_nothing_is_left(ticket):
    OutgoingEmail.objects.all().delete()
    for _ in range(7):
        mail(100)
        access(ticket, 800)
    keep = mail(1)
    assert purge("--batch-size", "3").startswith("deleted 7 e-mails and 7 access-log rows")
    assert list(OutgoingEmail.objects.values_list("pk", flat=True)) == [keep.pk]
    assert not AccessLog.objects.exists()


def test_it_refuses_a_batch_size_below_one(db):
    with pytest.raises(CommandError):
        purge("--batch-size", "0")
