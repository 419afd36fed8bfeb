"""tickets/bulk.py: many rows at once, by COPY on PostgreSQL, by bulk_create elsewhere."""

import time_machine
from django.forms.models import model_to_dict
from django.utils import timezone

from tests.conftest import make_ticket
from tickets import bulk
from tickets.models import OutgoingEmail, Reply


def notice(ticket, to, **fields):
    return OutgoingEmail(
        kind="ticket_closed_automatically",
        to=to,
        subject="Su ticket fue resuelto «ñ»",
        body_text="Estimado(a):\n\tcomillas ' \" y barra \\ y \\N\n",
        body_html="<p>Estimado(a) &amp; «ñ»</p>",
        ticket=ticket,
        message_id=f"<{to}@example.org>",
        **fields,
    )


def test_rows_written_at_once_read_back_as_bulk_create_writes_them(db):
    ticket = make_ticket()
    # The defaults read the clock.
    with time_machine.travel(timezone.now(), tick=False):
        one_by_one = OutgoingEmail.objects.bulk_create([notice(ticket, "a@example.org")])
        at_once = bulk.insert(
            [
                notice(ticket, "b@example.org"),
                notice(ticket, "c@example.org", state=OutgoingEmail.State.FAILED, last_error="x"),
            ]
        )

    def stored(row):
        return {k: v for k, v in model_to_dict(row).items() if k not in ("id", "to", "message_id")}

    expected = stored(OutgoingEmail.objects.get(pk=one_by_one[0].pk))
    first, second = (OutgoingEmail.objects.get(pk=row.pk) for row in at_once)
    assert stored(first) == expected
    assert (second.state, second.last_error) == (OutgoingEmail.State.FAILED, "x")
    assert at_once[0].pk < at_once[1].pk
    assert not at_once[0]._state.adding


def test_a_null_and_an_absent_foreign_key_are_written_as_null(db):
    ticket = make_ticket()
    (reply,) = bulk.insert(
        [Reply(ticket=ticket, kind=Reply.Kind.SYSTEM, author_name="Mesa", message="m")]
    )
    stored = Reply.objects.get(pk=reply.pk)
    assert stored.author_id is None and stored.ip_address is None and stored.hesk_ref is None
    assert stored.ticket_id == ticket.pk


def test_nothing_to_write_is_no_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert bulk.insert([]) == []
