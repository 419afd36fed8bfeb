"""The queue: the ticket list in admin, its default view, filters, search, bulk actions and cost."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_ticket
from tickets import tracking
from tickets.admin import paginator as paginator_module
from tickets.admin.paginator import EstimatedCountPaginator
from tickets.admin.tickets import TicketAdmin
from tickets.models import (
    Category,
    NonWorkingDay,
    OutgoingEmail,
    Priority,
    Region,
    Status,
    Ticket,
    TicketEvent,
)

SANTIAGO = ZoneInfo("America/Santiago")
QUEUE = reverse("admin:tickets_ticket_changelist")


def shown(response):
    assert response.status_code == 200
    return {t.pk for t in response.context_data["cl"].result_list}


@pytest.fixture
def resolved(agent):
    t = make_ticket(name="Roberto Lagos", email="rlagos@example.org", message="Ya se resolvió")
    t.mark_resolved(user=agent)
    return t


# --- default view and filters ---------------------------------------------------------------
def test_the_queue_shows_open_tickets_by_default_and_not_resolved_ones(
    agent_client, ticket, resolved
):
    r = agent_client.get(QUEUE)
    assert shown(r) == {ticket.pk}
    html = r.content.decode()
    assert ticket.tracking_id in html
    assert resolved.tracking_id not in html


def test_the_all_choice_shows_resolved_tickets_too(agent_client, ticket, resolved):
    assert shown(agent_client.get(QUEUE, {"estado": "todos"})) == {ticket.pk, resolved.pk}


def test_the_status_filter_shows_only_that_status(agent_client, ticket, resolved):
    assert shown(agent_client.get(QUEUE, {"estado": "resolved"})) == {resolved.pk}
    assert shown(agent_client.get(QUEUE, {"estado": "new"})) == {ticket.pk}


def test_the_queue_shows_the_columns_agents_work_with(agent_client, ticket):
    html = agent_client.get(QUEUE).content.decode()
    for text in [
        str(ticket.number),
        ticket.tracking_id,
        ticket.subject,
        "Alicia Rojas",
        "alicia@desarrollosocial.gob.cl",
        "Error de sistema",
        "Metropolitana de Santiago",
        "Nuevo",
        "Bajo",
        "Plazo de respuesta",
    ]:
        assert text in html, text


def test_the_priority_filter(agent_client, ticket, agent):
    high = make_ticket()
    high.change(user=agent, priority=Priority.HIGH)
    assert shown(agent_client.get(QUEUE, {"priority__exact": Priority.HIGH})) == {high.pk}
    assert shown(agent_client.get(QUEUE, {"priority__exact": Priority.LOW})) == {ticket.pk}


def test_the_category_and_region_filters(agent_client, ticket):
    other = make_ticket(
        category=Category.objects.get(name="Convenios"), region=Region.objects.get(code="AP")
    )
    assert shown(agent_client.get(QUEUE, {"category__id__exact": other.category_id})) == {other.pk}
    assert shown(agent_client.get(QUEUE, {"region__id__exact": other.region_id})) == {other.pk}
    assert shown(agent_client.get(QUEUE, {"region__id__exact": ticket.region_id})) == {ticket.pk}


def test_the_assignee_filter_has_mine_and_unassigned(agent_client, agent, supervisor, ticket):
    mine = make_ticket()
    mine.change(user=agent, assignee=agent)
    theirs = make_ticket()
    theirs.change(user=agent, assignee=supervisor)
    assert shown(agent_client.get(QUEUE, {"asignado": "yo"})) == {mine.pk}
    assert shown(agent_client.get(QUEUE, {"asignado": "nadie"})) == {ticket.pk}
    assert shown(agent_client.get(QUEUE, {"asignado": str(supervisor.pk)})) == {theirs.pk}


def test_the_overdue_filter_and_marker(agent_client, ticket):
    late = make_ticket()
    Ticket.objects.filter(pk=late.pk).update(staff_due_at=timezone.now() - timedelta(hours=1))
    Ticket.objects.filter(pk=ticket.pk).update(staff_due_at=timezone.now() + timedelta(hours=5))
    r = agent_client.get(QUEUE, {"vencido": "si"})
    assert shown(r) == {late.pk}
    assert 'class="overdue"' in r.content.decode()
    r = agent_client.get(QUEUE, {"vencido": "no"})
    assert shown(r) == {ticket.pk}
    assert 'class="overdue"' not in r.content.decode()


def test_the_queue_sorts_by_deadline(agent_client, ticket):
    sooner = make_ticket()
    Ticket.objects.filter(pk=sooner.pk).update(staff_due_at=timezone.now() - timedelta(days=1))
    deadline_column = TicketAdmin.list_display.index("deadline") + 1
    ascending = agent_client.get(QUEUE, {"o": str(deadline_column)}).context["cl"].result_list
    descending = agent_client.get(QUEUE, {"o": f"-{deadline_column}"}).context["cl"].result_list
    assert [t.pk for t in ascending] == [sooner.pk, ticket.pk]
    assert [t.pk for t in descending] == [ticket.pk, sooner.pk]


def test_tickets_without_a_deadline_sort_after_those_with_one(agent_client, agent, ticket):
    waiting = make_ticket()
    waiting.add_agent_reply(user=agent, message="Respondido")
    assert waiting.staff_due_at is None
    deadline_column = TicketAdmin.list_display.index("deadline") + 1
    ascending = agent_client.get(QUEUE, {"o": str(deadline_column)}).context["cl"].result_list
    assert [t.pk for t in ascending] == [ticket.pk, waiting.pk]


# --- search --------------------------------------------------------------------------------
def test_search_finds_a_tracking_id_typed_lower_case_without_dashes(agent_client, ticket):
    other = make_ticket()
    typed = ticket.tracking_id.replace("-", "").lower()
    assert shown(agent_client.get(QUEUE, {"q": typed})) == {ticket.pk}
    assert other.pk not in shown(agent_client.get(QUEUE, {"q": typed}))


def test_search_for_an_unknown_tracking_id_finds_nothing(agent_client, ticket):
    unknown = next(
        t for t in (tracking.new_tracking_id() for _ in range(5)) if t != ticket.tracking_id
    )
    assert shown(agent_client.get(QUEUE, {"q": unknown})) == set()


def test_search_finds_resolved_tickets_even_though_the_default_view_is_open_ones(
    agent_client, resolved
):
    assert shown(agent_client.get(QUEUE, {"q": resolved.tracking_id})) == {resolved.pk}
    assert (
        shown(agent_client.get(QUEUE, {"q": resolved.tracking_id, "estado": "abiertos"})) == set()
    )


def test_search_by_email(agent_client, ticket):
    other = make_ticket(email="otra@example.org")
    assert shown(agent_client.get(QUEUE, {"q": "Otra@Example.org"})) == {other.pk}
    assert shown(agent_client.get(QUEUE, {"q": "nadie@example.org"})) == set()


def test_search_by_ticket_number_and_project_number(agent_client, ticket):
    other = make_ticket(project_number=777777)
    assert shown(agent_client.get(QUEUE, {"q": str(other.number)})) == {other.pk}
    assert shown(agent_client.get(QUEUE, {"q": f"#{ticket.number}"})) == {ticket.pk}
    assert shown(agent_client.get(QUEUE, {"q": "777777"})) == {other.pk}
    assert shown(agent_client.get(QUEUE, {"q": "99999999999999"})) == set()


def test_search_by_name_and_message_text(agent_client, ticket):
    other = make_ticket(name="Samuel Meza", message="El convenio no aparece en la bandeja")
    assert shown(agent_client.get(QUEUE, {"q": "bandeja"})) == {other.pk}
    # "samuel meza" has a tracking ID's shape; no such ID exists, so it is a name.
    assert shown(agent_client.get(QUEUE, {"q": "samuel meza"})) == {other.pk}
    assert shown(agent_client.get(QUEUE, {"q": "rendición"})) == {ticket.pk}


def test_two_letters_find_tickets_with_a_word_starting_so_and_the_box_says_so(agent_client):
    perez = make_ticket(name="Paula Pérez", message="Consulta")
    lopez = make_ticket(name="Ana López", message="Consulta")
    response = agent_client.get(QUEUE, {"q": "Pé"})
    assert shown(response) == {perez.pk}
    assert lopez.pk in shown(agent_client.get(QUEUE, {"q": "Lóp"}))
    assert "Una o dos letras buscan el comienzo de una palabra" in response.content.decode()


def test_the_note_on_short_terms_is_in_english_for_an_english_agent(agent_client):
    agent_client.cookies["django_language"] = "en"
    html = agent_client.get(QUEUE).content.decode()
    assert "One or two letters search for the start of a word" in html
    assert "Una o dos letras" not in html


def test_a_two_digit_term_is_still_a_ticket_number_not_a_word_start(agent_client, agent):
    bulk_tickets(12, start=1, assignee=agent)
    Ticket.objects.filter(number=3).update(message="12 archivos adjuntos")
    assert {
        t.number for t in Ticket.objects.filter(pk__in=shown(agent_client.get(QUEUE, {"q": "12"})))
    } == {12}


# --- bulk actions --------------------------------------------------------------------------
def act(client, action, tickets, **extra):
    data = {"action": action, "_selected_action": [t.pk for t in tickets], "index": 0, **extra}
    return client.post(QUEUE, data)


def test_assign_to_me_goes_through_the_verb_and_writes_history(agent_client, agent, ticket):
    r = act(agent_client, "assign_to_me", [ticket])
    assert r.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    event = TicketEvent.objects.get(ticket=ticket, field="assignee")
    assert (event.actor, event.new_value) == (agent, "Bruno Díaz")


def test_set_status_changes_the_status_and_writes_history(agent_client, agent, ticket):
    act(agent_client, "set_status", [ticket], new_status=Status.ON_HOLD)
    ticket.refresh_from_db()
    assert ticket.status == Status.ON_HOLD
    # The verb's side effects, which a queryset.update would have skipped.
    assert ticket.staff_due_at is None
    assert TicketEvent.objects.filter(
        ticket=ticket, field="status", new_value="En espera", actor=agent
    ).exists()


def test_set_status_without_choosing_one_changes_nothing(agent_client, ticket):
    r = act(agent_client, "set_status", [ticket], new_status="")
    assert r.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert not TicketEvent.objects.filter(ticket=ticket).exists()


def test_set_priority_changes_only_the_selected_tickets(agent_client, ticket):
    other = make_ticket()
    act(agent_client, "set_priority", [ticket], new_priority=Priority.CRITICAL)
    ticket.refresh_from_db()
    other.refresh_from_db()
    assert (ticket.priority, other.priority) == (Priority.CRITICAL, Priority.LOW)
    assert TicketEvent.objects.filter(ticket=ticket, field="priority", new_value="Crítico").exists()
    assert not TicketEvent.objects.filter(ticket=other).exists()


def test_mark_resolved_resolves_and_tells_the_requester(agent_client, ticket):
    act(agent_client, "mark_resolved", [ticket])
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert ticket.closed_at is not None
    assert OutgoingEmail.objects.filter(ticket=ticket, kind="ticket_resolved").count() == 1
    assert shown(agent_client.get(QUEUE)) == set()


def test_mark_resolved_leaves_an_already_closed_ticket_alone(agent_client, agent, ticket):
    ticket.change(user=agent, status=Status.CLOSED)
    act(agent_client, "mark_resolved", [ticket])
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert not OutgoingEmail.objects.filter(ticket=ticket, kind="ticket_resolved").exists()


def test_the_selection_box_is_the_markup_django_renders(ticket):
    # Written out rather than rendered through the widget templates (a sixth of the
    # queue's CPU time); the admin's actions.js relies on this exact markup.
    model_admin = admin.site._registry[Ticket]
    assert model_admin.action_checkbox(ticket) == admin.ModelAdmin.action_checkbox(
        model_admin, ticket
    )


def test_the_queue_has_a_selection_box_for_each_ticket_shown_and_none_for_others(
    agent_client, ticket, resolved
):
    html = agent_client.get(QUEUE).content.decode()
    assert (
        f'<input type="checkbox" name="_selected_action" value="{ticket.pk}" class="action-select"'
        in html
    )
    assert f'name="_selected_action" value="{resolved.pk}"' not in html


# --- cost ----------------------------------------------------------------------------------
def bulk_tickets(n, *, start, assignee):
    """Rows straight into the table: the queue's cost, not the submission's, is under test."""
    categories, regions = list(Category.objects.all()), list(Region.objects.all())
    now = timezone.now()
    Ticket.objects.bulk_create(
        Ticket(
            number=start + i,
            tracking_id=tracking.new_tracking_id(),
            name=f"Persona {i}",
            email=f"p{i}@example.org",
            category=categories[i % len(categories)],
            region=regions[i % len(regions)],
            project_number=i + 1,
            subject=f"Asunto {i}",
            message="texto",
            assignee=assignee if i % 2 else None,
            staff_due_at=now + timedelta(hours=i % 48 - 24),
            created_at=now,
            updated_at=now,
        )
        for i in range(n)
    )


def queue_queries(client, django_assert_max_num_queries, **params):
    # Session, user, second factor, permissions (one query), the count, the page: 6, on
    # SQLite and on PostgreSQL (a list this small is counted in one capped query; the
    # whole table, unfiltered, asks pg_class for its estimate first: 7). The
    # filters' categories, regions and staff, the days off and the side bar's app list are
    # read once a minute per process (tickets/reference_choices.py, admin_site.py): the
    # first page reads them.
    client.get(QUEUE, params)
    with django_assert_max_num_queries(7 if connection.vendor == "postgresql" else 6) as captured:
        r = client.get(QUEUE, params)
    assert r.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "params", [{}, {"estado": "todos", "o": "-12"}, {"asignado": "yo", "vencido": "si"}]
)
def test_the_queue_costs_the_same_queries_for_10_and_500_tickets(
    agent_client, agent, django_assert_max_num_queries, params
):
    bulk_tickets(10, start=1, assignee=agent)
    small = queue_queries(agent_client, django_assert_max_num_queries, **params)
    bulk_tickets(490, start=11, assignee=agent)
    assert Ticket.objects.count() == 500
    large = queue_queries(agent_client, django_assert_max_num_queries, **params)
    assert small == large


@pytest.mark.parametrize("term", ["pe", "zz"])
def test_a_short_term_costs_the_same_queries_for_10_and_500_tickets(
    agent_client, agent, django_assert_max_num_queries, term
):
    # One more than the queue's own on PostgreSQL: the index look-up of the word start.
    # Every bulk ticket is a "Persona", so "pe" finds all 10, then all 500.
    bulk_tickets(10, start=1, assignee=agent)
    agent_client.get(QUEUE)  # the filters' lists, read once a minute (queue_queries says so)
    with django_assert_max_num_queries(8) as small:
        assert len(shown(agent_client.get(QUEUE, {"q": term}))) == (10 if term == "pe" else 0)
    bulk_tickets(490, start=11, assignee=agent)
    with django_assert_max_num_queries(8) as large:
        assert len(shown(agent_client.get(QUEUE, {"q": term}))) == (50 if term == "pe" else 0)
    assert len(small) == len(large)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite and others have no estimate")
def test_the_paginator_counts_exactly_off_postgresql(ticket):
    assert EstimatedCountPaginator(Ticket.objects.all(), 50).count == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reltuples is PostgreSQL's")
def test_on_postgresql_the_whole_queue_is_estimated_and_a_filtered_one_counted(agent, monkeypatch):
    monkeypatch.setattr(paginator_module, "ESTIMATE_ABOVE", 20)
    bulk_tickets(30, start=1, assignee=agent)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
    with CaptureQueriesContext(connection) as captured:
        assert EstimatedCountPaginator(Ticket.objects.order_by("-number"), 50).count == 30
    assert not any("COUNT" in q["sql"] for q in captured.captured_queries)
    with CaptureQueriesContext(connection) as captured:
        assert EstimatedCountPaginator(Ticket.objects.filter(assignee=agent), 50).count == 15
    assert any("COUNT" in q["sql"] for q in captured.captured_queries)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner's estimate")
def test_on_postgresql_a_large_filtered_queue_is_estimated_after_a_capped_count(agent, monkeypatch):
    monkeypatch.setattr(paginator_module, "ESTIMATE_ABOVE", 20)
    bulk_tickets(60, start=1, assignee=agent)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
    with CaptureQueriesContext(connection) as captured:
        estimate = EstimatedCountPaginator(Ticket.objects.filter(assignee=agent), 50).count
    assert 20 < estimate <= 60
    # The count reads at most ESTIMATE_ABOVE + 1 rows; only then is the planner asked.
    (count,) = [q["sql"] for q in captured.captured_queries if "COUNT" in q["sql"]]
    assert "LIMIT 21" in count
    assert captured.captured_queries[-1]["sql"].startswith("EXPLAIN")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner's estimate")
def test_on_postgresql_a_short_filtered_queue_is_counted_in_one_query(agent, monkeypatch):
    monkeypatch.setattr(paginator_module, "ESTIMATE_ABOVE", 20)
    bulk_tickets(30, start=1, assignee=agent)
    with CaptureQueriesContext(connection) as captured:
        assert EstimatedCountPaginator(Ticket.objects.filter(assignee=agent), 50).count == 15
    assert len(captured.captured_queries) == 1


# --- the rows written in one pass (tickets/admin/queue_table.py) ---------------------------
def test_the_queue_rows_are_cell_for_cell_what_django_admin_would_write(agent_client, agent):
    from django.contrib.admin.templatetags.admin_list import results

    from tickets.admin.queue_table import rows

    bulk_tickets(12, start=1, assignee=agent)
    Ticket.objects.filter(number=3).update(subject='<script>alert("x")</script> & «ñ»')
    response = agent_client.get(QUEUE, {"estado": "todos", "o": "-1"})
    cl = response.context["cl"]
    django_rows = ["<tr>" + "".join(items) + "</tr>" for items in results(cl)]
    assert rows(cl).split("\n") == django_rows
    html = response.content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; «ñ»" in html
    assert "<script>alert" not in html
    # Admin's sorting controls, in Spanish from Django's catalogue.
    assert 'title="Eliminar del ordenación"' in html and 'title="Activar la ordenación"' in html


def test_a_new_category_or_agent_reaches_the_queue_filters_at_once(agent_client, agent, ticket):
    assert "Becas de invierno" not in agent_client.get(QUEUE).content.decode()
    Category.objects.create(name="Becas de invierno")
    User.objects.create_user("dora", first_name="Dora", last_name="Nova", is_staff=True)
    html = agent_client.get(QUEUE).content.decode()
    assert "Becas de invierno" in html and "Dora Nova" in html


def test_a_day_off_entered_by_staff_moves_the_queues_deadlines_at_once(agent_client):
    with time_machine.travel(datetime(2026, 3, 5, 10, tzinfo=SANTIAGO), tick=False):
        make_ticket()  # 16 working hours: due Monday 10:00
        assert "vence en 2 días hábiles" in agent_client.get(QUEUE).content.decode()
        NonWorkingDay.objects.create(date=date(2026, 3, 6), description="Feriado local")
        assert "vence en 1 día hábil" in agent_client.get(QUEUE).content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the capped count is PostgreSQL's")
def test_a_queue_that_can_match_nothing_counts_zero(db):
    # filter(pk__in=[]) compiles to no SQL at all: the capped count must still say 0.
    assert EstimatedCountPaginator(Ticket.objects.filter(pk__in=[], status="new"), 50).count == 0
