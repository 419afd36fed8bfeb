"""anonymize_closed_tickets: personal data of long-finished tickets is erased, statistics stay."""

import datetime
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import make_ticket, pdf, png
from tickets.management.commands.anonymize_closed_tickets import months_before
from tickets.models import Attachment, OutgoingEmail, Priority, Reply, Status, Ticket, TicketEvent

NAME = "Alicia Rojas"
EMAIL = "alicia@desarrollosocial.gob.cl"
IP = "192.168.21.120"
REPLY_IP = "192.168.21.77"
SECRETS = [
    NAME,
    EMAIL,
    IP,
    REPLY_IP,
    "rendición del proyecto",
    "error 500",
    "pantallazo del RUT",
    "clave del convenio",
    "informe.pdf",
]


def run(*args):
    out = StringIO()
    call_command("anonymize_closed_tickets", *args, stdout=out)
    return out.getvalue().strip()


def finished(months_ago, *, status=Status.RESOLVED, **overrides):
    t = make_ticket(files=[pdf()], **overrides)
    t.add_requester_reply(
        message="Adjunto el pantallazo del RUT", files=[png()], ip_address=REPLY_IP
    )
    t.add_agent_reply(user=agent_user(), message="Revisamos la clave del convenio de Alicia Rojas.")
    t.change(user=agent_user(), status=status, priority=Priority.HIGH)
    Ticket.objects.filter(pk=t.pk).update(closed_at=months_before(timezone.now(), months_ago))
    t.refresh_from_db()
    return t


def agent_user():
    from django.contrib.auth.models import User

    user, _ = User.objects.get_or_create(
        username="bruno", defaults={"first_name": "Bruno", "is_staff": True}
    )
    return user


def rows_mentioning(ticket, text):
    """Every column of every row of the ticket and its dependants that holds ``text``."""
    hits = []
    tables = [
        (Ticket, {"pk": ticket.pk}),
        (Reply, {"ticket": ticket}),
        (Attachment, {"ticket": ticket}),
        (OutgoingEmail, {"ticket": ticket}),
        (TicketEvent, {"ticket": ticket}),
    ]
    for model, where in tables:
        for row in model.objects.filter(**where).values():
            hits += [
                f"{model.__name__}.{k}"
                for k, v in row.items()
                if v is not None and text.lower() in str(v).lower()
            ]
    return hits


def test_it_erases_name_email_ip_messages_files_and_mails_of_an_old_ticket(db, media_root):
    t = finished(25)
    files = [
        Path(media_root) / name
        for name in Attachment.objects.filter(ticket=t).values_list("file", flat=True)
    ]
    assert len(files) == 2 and all(f.exists() for f in files)
    assert OutgoingEmail.objects.filter(ticket=t).exists()

    assert run().startswith("anonymized 1 tickets, deleted 2 files, skipped 0, errors 0")

    for secret in SECRETS:
        assert rows_mentioning(t, secret) == [], secret
    assert not any(f.exists() for f in files)
    assert not Attachment.objects.filter(ticket=t).exists()
    assert not OutgoingEmail.objects.filter(ticket=t).exists()
    t.refresh_from_db()
    assert (t.name, t.email, t.ip_address) == (
        "Anonimizado",
        f"anonimizado-{t.number}@invalid",
        None,
    )
    assert t.message == t.subject == "[eliminado]"
    assert set(Reply.objects.filter(ticket=t).values_list("message", flat=True)) == {"[eliminado]"}
    assert not Reply.objects.filter(ticket=t).exclude(ip_address=None).exists()
    assert Reply.objects.get(ticket=t, kind=Reply.Kind.REQUESTER).author_name == "Anonimizado"
    assert Reply.objects.get(ticket=t, kind=Reply.Kind.AGENT).author_name == "Bruno"


def test_it_keeps_what_statistics_need(db):
    t = finished(25, status=Status.CLOSED)
    before = (
        Ticket.objects.filter(pk=t.pk)
        .values(
            "number",
            "tracking_id",
            "category",
            "region",
            "project_number",
            "status",
            "priority",
            "created_at",
            "updated_at",
            "closed_at",
            "reply_count",
            "language",
        )
        .get()
    )
    events = list(
        TicketEvent.objects.filter(ticket=t).values_list("field", "old_value", "new_value")
    )
    run()
    after = Ticket.objects.filter(pk=t.pk).values(*before).get()
    assert after == before
    assert (
        list(TicketEvent.objects.filter(ticket=t).values_list("field", "old_value", "new_value"))
        == events
    )
    assert Reply.objects.filter(ticket=t).count() == 2


def test_it_leaves_recent_open_and_reopened_tickets_alone(db, media_root):
    recent = finished(23)
    old_but_open = make_ticket(files=[pdf()])
    Ticket.objects.filter(pk=old_but_open.pk).update(created_at=months_before(timezone.now(), 40))
    reopened = finished(30)
    reopened.add_requester_reply(message="Volvió a fallar")  # reopens: no closed_at any more

    assert run().startswith("anonymized 0 tickets")
    for t in (recent, old_but_open, reopened):
        t.refresh_from_db()
        assert t.name == NAME and t.email == EMAIL and t.ip_address == IP
    assert len(list(Path(media_root).rglob("*.*"))) == 5


def test_it_is_idempotent(db):
    t = finished(25)
    assert run().startswith("anonymized 1 tickets")
    assert run().startswith("anonymized 0 tickets, deleted 0 files")
    assert t.anonymize() is None
    t.refresh_from_db()
    assert t.name == "Anonimizado"


def test_a_dry_run_changes_nothing(db, media_root):
    t = finished(25)
    finished(1)
    out = run("--dry-run")
    assert out.startswith("would anonymize 1 tickets (closed before ")
    assert out.endswith("retention 24 months); dry run, nothing changed")
    t.refresh_from_db()
    assert t.name == NAME and Attachment.objects.filter(ticket=t).count() == 2


def test_the_retention_period_is_a_setting(db, settings):
    settings.RETENTION_MONTHS = 6
    t = finished(7)
    run()
    t.refresh_from_db()
    assert t.name == "Anonimizado"


def test_it_works_in_batches(db):
    tickets = [finished(25) for _ in range(5)]
    assert run("--batch-size", "2").startswith("anonymized 5 tickets, deleted 10 files")
    assert (
        not Ticket.objects.filter(pk__in=[t.pk for t in tickets])
        .exclude(name="Anonimizado")
        .exists()
    )


def test_a_failing_ticket_does_not_stop_the_others_and_keeps_its_data(db, monkeypatch, media_root):
    bad, good = finished(25), finished(25)
    original = Ticket.anonymize

    def anonymize(self):
        if self.pk == bad.pk:
            raise OSError("storage down")
        return original(self)

    monkeypatch.setattr(Ticket, "anonymize", anonymize)
    assert run().startswith("anonymized 1 tickets, deleted 2 files, skipped 0, errors 1")
    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.name == NAME and good.name == "Anonimizado"


def test_a_file_that_cannot_be_deleted_rolls_the_ticket_back(db, monkeypatch, media_root):
    t = finished(25)
    storage = Attachment._meta.get_field("file").storage

    def fail(name):
        raise OSError("read-only file system")

    monkeypatch.setattr(storage, "delete", fail)
    assert "errors 1" in run()
    t.refresh_from_db()
    assert t.name == NAME and Attachment.objects.filter(ticket=t).count() == 2
    monkeypatch.undo()
    assert run().startswith("anonymized 1 tickets, deleted 2 files")


def test_the_anonymized_address_is_never_mailed(db, agent):
    t = finished(25)
    t.anonymize()
    t.add_agent_reply(user=agent, message="Aviso")
    mail = OutgoingEmail.objects.get(ticket=t, kind="agent_replied")
    assert mail.state == OutgoingEmail.State.FAILED


@pytest.mark.parametrize(
    "moment,months,expected",
    [
        ((2026, 3, 31), 1, (2026, 2, 28)),
        ((2028, 3, 31), 1, (2028, 2, 29)),
        ((2026, 1, 15), 24, (2024, 1, 15)),
        ((2026, 1, 15), 13, (2024, 12, 15)),
    ],
)
def test_months_are_counted_on_the_calendar(moment, months, expected):
    tz = ZoneInfo("America/Santiago")
    result = months_before(datetime.datetime(*moment, 12, 0, tzinfo=tz), months)
    assert result.date() == datetime.date(*expected)


def test_anonymizing_an_imported_ticket_clears_its_hesk_history(db):
    t = finished(25)
    Ticket.objects.filter(pk=t.pk).update(hesk_history="2015-03-02 | reabierto por Alicia Rojas")
    other = finished(25)
    Ticket.objects.filter(pk=other.pk).update(hesk_history="2015-03-02 | enviado por Cliente")
    t.anonymize()
    t.refresh_from_db()
    other.refresh_from_db()
    assert t.hesk_history == ""
    assert other.hesk_history == "2015-03-02 | enviado por Cliente"


def test_no_column_was_missed(db):
    """If a model gains a text column, decide whether anonymize() must clear it."""
    known = {
        Ticket: {
            "tracking_id",
            "name",
            "email",
            "subject",
            "message",
            "ip_address",
            "language",
            "status",
            "last_replier",
            "hesk_history",
            "channel",  # web / teléfono / correo / presencial: not about the person
        },
        # channel: "web" or "email", no personal data.
        Reply: {"kind", "author_name", "message", "ip_address", "hesk_ref", "channel"},
    }
    for model, fields in known.items():
        text = {
            f.name
            for f in model._meta.concrete_fields
            if f.get_internal_type()
            in ("CharField", "TextField", "EmailField", "GenericIPAddressField")
        }
        assert text == fields, model.__name__


def test_anonymizing_blanks_the_requesters_address_in_the_access_log_but_keeps_staff_rows(
    db, agent
):
    from tests.conftest import make_ticket
    from tickets.models.personal_data import AccessLog

    t = make_ticket()
    AccessLog.objects.create(ticket=t, kind=AccessLog.Kind.PUBLIC_VIEW, ip_address="200.1.2.3")
    AccessLog.objects.create(
        ticket=t, kind=AccessLog.Kind.ADMIN_VIEW, user=agent, ip_address="10.0.0.5"
    )
    t.anonymize()
    assert not AccessLog.objects.filter(ip_address="200.1.2.3").exists()
    assert AccessLog.objects.get(kind=AccessLog.Kind.ADMIN_VIEW).ip_address == "10.0.0.5"
