import re

import pytest

from tests.conftest import make_ticket
from tickets import tracking
from tickets.models import Ticket


def test_a_new_tracking_id_has_the_old_systems_shape():
    for _ in range(200):
        value = tracking.new_tracking_id()
        assert re.fullmatch(
            r"[AEUYBDGHJLMNPQRSTVWXZ1-9]{3}-[AEUYBDGHJLMNPQRSTVWXZ1-9]{3}-[AEUYBDGHJLMNPQRSTVWXZ1-9]{4}",
            value,
        )


def test_tracking_ids_never_use_ambiguous_symbols():
    drawn = "".join(tracking.new_tracking_id() for _ in range(500))
    assert not set(drawn) & set("CFIKO0")


@pytest.mark.parametrize(
    "typed",
    [
        "1N7-XQE-RW26",
        "1n7-xqe-rw26",
        "1N7XQERW26",
        " 1n7 xqe rw26 ",
        "1N7X-QER-W26",
        "1n7—xqe—rw26",
    ],
)
def test_it_understands_what_people_type(typed):
    assert tracking.normalize(typed) == "1N7-XQE-RW26"


@pytest.mark.parametrize(
    "typed", ["", "1N7-XQE-RW2", "1N7-XQE-RW266", "1N7-XQE-RW20", "CCC-CCC-CCCC", "'; DROP TABLE"]
)
def test_it_refuses_what_cannot_be_a_tracking_id(typed):
    assert tracking.normalize(typed) == ""


def test_the_short_form_does_not_reveal_the_id():
    assert tracking.short("1N7-XQE-RW26") == "1N7-…"


def test_a_colliding_tracking_id_is_drawn_again(db, monkeypatch):
    first = make_ticket()
    drawn = iter([first.tracking_id, "AAA-BBB-2222"])
    monkeypatch.setattr(tracking, "new_tracking_id", lambda: next(drawn))
    second = make_ticket()
    assert second.tracking_id == "AAA-BBB-2222"
    assert Ticket.objects.count() == 2


def test_ticket_numbers_are_sequential(db):
    numbers = [make_ticket().number for _ in range(3)]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
