"""Submissions racing on PostgreSQL, for real: threads, each with its own connection."""

import threading
import uuid

import pytest
from django.db import connection, connections

from tickets.models import Category, OutgoingEmail, Region, Ticket
from tickets.submission import submit_ticket

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL's concurrent writers (SQLite serialises them): run with DATABASE_URL=postgres://…",
)

SUBMISSIONS = 50


# transaction=True: the threads' commits must be real and visible to each other.
# serialized_rollback=True: puts back the regions and categories the migrations
# seeded, which the flush after a transactional test would otherwise remove.
@needs_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fifty_parallel_submissions_get_distinct_numbers_and_tracking_ids():
    category = Category.objects.get(name="Error de sistema")
    region = Region.objects.get(code="RM")
    start = threading.Barrier(SUBMISSIONS)
    errors = []

    def submit(i):
        try:
            start.wait(timeout=30)
            submit_ticket(
                name=f"Solicitante {i}",
                email=f"persona{i}@desarrollosocial.gob.cl",
                category=category,
                region=region,
                project_number=29928,
                message=f"Consulta número {i}",
                ip_address=f"192.168.21.{i}",
            )
        except Exception as exc:  # collected, so one failure does not hang the others
            errors.append(repr(exc))
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(SUBMISSIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    assert not any(t.is_alive() for t in threads)
    numbers, tracking_ids = zip(*Ticket.objects.values_list("number", "tracking_id"), strict=False)
    assert len(numbers) == SUBMISSIONS
    # The counter's row lock hands out consecutive numbers, no gaps and no repeats.
    assert sorted(numbers) == list(range(min(numbers), min(numbers) + SUBMISSIONS))
    assert len(set(tracking_ids)) == SUBMISSIONS


@needs_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_repeated_form_sent_at_once_makes_one_ticket_and_wastes_no_number():
    # Without files nothing is read first: the token's unique key refuses the repeat, and
    # the statement that would have written it gives its number back.
    category = Category.objects.get(name="Error de sistema")
    region = Region.objects.get(code="RM")
    token = uuid.uuid4()
    start = threading.Barrier(8)
    got, errors = [], []

    def one(name, **extra):
        return submit_ticket(
            name=name,
            email=f"{name.lower()}@desarrollosocial.gob.cl",
            category=category,
            region=region,
            project_number=1,
            message="Doble clic.",
            **extra,
        )

    def submit():
        try:
            start.wait()
            got.append(one("Ana", submission_token=token).pk)
        except Exception as exc:  # reported below, with the others
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ticket = Ticket.objects.get()
    assert set(got) == {ticket.pk}
    assert one("Bea").number == ticket.number + 1
    assert OutgoingEmail.objects.filter(ticket=ticket, kind="ticket_created").count() == 1
