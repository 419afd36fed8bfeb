"""The supervisors' report: every figure worked out by hand on a small set of tickets.

The set (August 2026, the report read on Monday 31 August at noon; working hours 09–17):

T1 Ñuble, Error de sistema: created Wed 19 Aug 15:00, Bruno answers Mon 24 Aug 11:00.
   Wed 15–17 = 2 h; Thu 20 Aug is Ñuble's own holiday (Nacimiento del Prócer); Fri 8 h;
   weekend; Mon 9–11 = 2 h → 12 h, within the 16-hour target.
T2 Metropolitana, Error de sistema: the same moments → Wed 2 + Thu 8 + Fri 8 + Mon 2 = 20 h, late.
T3 Metropolitana, Convenios: created Mon 3 Aug 09:00, Carla answers 13:00 (4 h) and resolves it
   Tue 4 Aug 09:00 → resolution 8 h.
T4 Metropolitana, Error de sistema: created Tue 4 Aug 10:00, Bruno asks for information 12:00 (2 h);
   nobody answers; closed automatically at the deadline Thu 6 Aug 12:00 → 7 + 8 + 3 = 18 h.
T5 Ñuble, Convenios: created Mon 10 Aug 09:00, assigned to Bruno, never answered (overdue).
T6 Metropolitana, Error de sistema: created Mon 10 Aug 09:00, Bruno answers 10:00 (1 h), the
   requester marks it resolved at 11:00 and reopens it with a reply Tue 11 Aug 09:00 (overdue).
T7 Metropolitana, Convenios: created Wed 15 Jul 10:00, never answered (previous period; overdue).
"""

import importlib
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import make_ticket
from tickets import reports
from tickets.models import Category, Rating, Region, Status, Ticket

SANTIAGO = ZoneInfo("America/Santiago")
REPORT = "/admin/tickets/ticket/informes/"
NOW = datetime(2026, 8, 31, 12, 0, tzinfo=SANTIAGO)


def at(month, day, hour, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=SANTIAGO)


def created(when, **overrides):
    with time_machine.travel(when, tick=False):
        return make_ticket(**overrides)


def answer(t, user, when, kind="public"):
    with time_machine.travel(when, tick=False):
        t.add_agent_reply(user=user, message="Revise la sección Rendiciones.", kind=kind)


@pytest.fixture
def convenios(db):
    return Category.objects.get(name="Convenios")


@pytest.fixture
def nuble(db):
    return Region.objects.get(code="NB")


@pytest.fixture
def tickets(agent, supervisor, convenios, nuble):
    t1 = created(at(8, 19, 15), region=nuble)
    answer(t1, agent, at(8, 24, 11))
    t2 = created(at(8, 19, 15))
    answer(t2, agent, at(8, 24, 11))
    t3 = created(at(8, 3, 9), category=convenios)
    answer(t3, supervisor, at(8, 3, 13))
    with time_machine.travel(at(8, 4, 9), tick=False):
        t3.mark_resolved(user=supervisor)
    t4 = created(at(8, 4, 10))
    answer(t4, agent, at(8, 4, 12), kind="information")
    with time_machine.travel(at(8, 6, 12), tick=False):
        call_command("close_stalled_tickets", stdout=io.StringIO())
    t5 = created(at(8, 10, 9), region=nuble, category=convenios)
    with time_machine.travel(at(8, 10, 9, 5), tick=False):
        t5.change(user=agent, assignee=agent)
    t6 = created(at(8, 10, 9))
    answer(t6, agent, at(8, 10, 10))
    with time_machine.travel(at(8, 10, 11), tick=False):
        t6.mark_resolved()
    with time_machine.travel(at(8, 11, 9), tick=False):
        t6.add_requester_reply(message="Volvió a fallar.")
    t7 = created(at(7, 15, 10), category=convenios)
    return [Ticket.objects.get(pk=t.pk) for t in (t1, t2, t3, t4, t5, t6, t7)]


@pytest.fixture
def august():
    return reports.Scope(start=date(2026, 8, 1), end=date(2026, 8, 31))


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


# --- what the verbs store ------------------------------------------------------------------
def test_a_first_answer_across_a_regional_holiday_and_a_weekend_counts_only_working_hours(
    tickets,
):
    t1, t2 = tickets[0], tickets[1]
    assert t1.first_answer_business_hours == 12.0
    assert t2.first_answer_business_hours == 20.0
    assert t1.first_public_answer_at == at(8, 24, 11)


def test_only_the_first_public_answer_is_stored(agent, supervisor):
    t = created(at(8, 3, 9))
    with time_machine.travel(at(8, 3, 10), tick=False):
        t.add_agent_reply(user=agent, message="Nota para el equipo.", kind="internal")
    t.refresh_from_db()
    assert t.first_public_answer_at is None
    answer(t, supervisor, at(8, 3, 11))
    answer(t, agent, at(8, 3, 15))
    t.refresh_from_db()
    assert (t.first_public_answer_at, t.first_answer_by) == (at(8, 3, 11), supervisor)
    assert t.first_answer_business_hours == 2.0


def test_resolution_hours_are_stored_on_closing_and_cleared_on_reopening(tickets):
    t3, t4, t6 = tickets[2], tickets[3], tickets[5]
    assert t3.resolution_business_hours == 8.0
    assert t4.resolution_business_hours == 18.0
    assert t4.status == "closed"
    assert t6.resolution_business_hours is None
    assert t6.status == "waiting"


def test_the_migration_fills_the_measures_of_existing_tickets(tickets):
    Ticket.objects.update(
        first_public_answer_at=None,
        first_answer_by=None,
        first_answer_business_hours=None,
        resolution_business_hours=None,
    )
    migration = importlib.import_module("tickets.migrations.0008_reports")
    from django.apps import apps

    migration.fill_measures(apps, None)
    rows = dict(Ticket.objects.values_list("pk", "first_answer_business_hours"))
    assert [rows[t.pk] for t in tickets] == [12.0, 20.0, 4.0, 2.0, None, 1.0, None]
    done = dict(Ticket.objects.values_list("pk", "resolution_business_hours"))
    assert [done[t.pk] for t in tickets] == [None, None, 8.0, 18.0, None, None, None]
    assert Ticket.objects.get(pk=tickets[2].pk).first_answer_by.username == "carla"


# --- the figures ----------------------------------------------------------------------------------
def test_now_counts_open_tickets_by_status_category_region_and_assignee(tickets, august):
    now = reports.open_now(august, NOW)
    assert (now["open"], now["overdue"], now["waiting_requester"]) == (5, 3, 2)
    assert [(str(s), n) for s, n in now["by_status"]] == [
        ("Nuevo", 2),
        ("Esperando respuesta", 1),
        ("Respondido", 2),
        ("En curso", 0),
        ("En espera", 0),
    ]
    assert now["by_category"] == [("Error de sistema", 3), ("Convenios", 2)]
    assert now["by_region"] == [("Metropolitana de Santiago", 3), ("Ñuble", 2)]
    assert now["by_assignee"] == [("Sin asignar", 4), ("Bruno Díaz", 1)]


def test_service_level_share_and_percentiles(tickets, august):
    s = reports.service_level(august)
    assert (s["created"], s["answered"], s["within"], s["unanswered_open"]) == (6, 5, 4, 1)
    assert s["share"] == 80.0
    # First answers 1, 2, 4, 12, 20: median 4; 90th percentile at rank 0.9 × 4 = 3.6,
    # i.e. 12 + 0.6 × (20 − 12).
    assert s["first_p50"] == pytest.approx(4.0)
    assert s["first_p90"] == pytest.approx(16.8)
    # Resolutions 8 and 18 (T6's was undone by the reopening).
    assert s["finished"] == 2
    assert s["resolution_p50"] == pytest.approx(13.0)
    assert s["resolution_p90"] == pytest.approx(17.0)
    assert s["by_month"] == [(date(2026, 8, 1), 5, 4, 80.0)]
    assert s["by_region"] == [("Metropolitana de Santiago", 4, 3, 75.0), ("Ñuble", 1, 1, 100.0)]


def test_service_level_follows_the_category_filter(tickets, august, convenios):
    s = reports.service_level(reports.Scope(august.start, august.end, category=convenios))
    assert (s["created"], s["answered"], s["within"], s["share"]) == (2, 1, 1, 100.0)
    assert s["by_region"] == [("Metropolitana de Santiago", 1, 1, 100.0)]
    assert s["first_p50"] == pytest.approx(4.0)


def test_a_range_without_answers_has_no_percentiles(tickets):
    s = reports.service_level(reports.Scope(date(2026, 6, 1), date(2026, 6, 30)))
    assert (s["answered"], s["share"], s["first_p50"], s["resolution_p90"]) == (0, None, None, None)


def test_outcomes_count_each_way_a_ticket_ended_or_came_back(tickets, august):
    assert reports.outcomes(august) == {
        "resolved_by_staff": 1,
        "closed_by_staff": 0,
        "resolved_by_requester": 1,
        "resolved_automatically": 0,
        "closed_automatically": 1,
        "reopened_by_requester": 1,
        "merged": 0,
        "satisfaction": {"count": 0, "average": None, "by_score": dict.fromkeys(range(1, 6), 0)},
    }


def test_outcomes_before_the_tickets_existed_are_zero(tickets):
    july = reports.Scope(date(2026, 7, 1), date(2026, 7, 31))
    figures = reports.outcomes(july)
    assert figures.pop("satisfaction")["count"] == 0
    assert set(figures.values()) == {0}


def test_outcomes_count_merged_tickets_and_the_requesters_ratings(db, agent, supervisor):
    main, duplicate, rated = make_ticket(), make_ticket(), make_ticket()
    duplicate.merge_into(main, user=agent)
    rated.change(user=agent, status=Status.RESOLVED)
    Rating.rate(Ticket.objects.get(pk=rated.pk), score=4, comment="")
    today = timezone.localdate()
    figures = reports.outcomes(reports.Scope(today, today))
    assert figures["merged"] == 1
    assert (figures["satisfaction"]["count"], figures["satisfaction"]["average"]) == (1, 4.0)


def test_trends_per_week_and_growth_against_the_previous_period(tickets, august):
    tr = reports.trends(august)
    weeks = dict((w, (new, done)) for w, new, done in tr["weeks"])
    assert len(tr["weeks"]) == 12
    assert (tr["weeks"][0][0], tr["weeks"][-1][0]) == (date(2026, 6, 15), date(2026, 8, 31))
    assert weeks[date(2026, 7, 13)] == (1, 0)
    assert weeks[date(2026, 8, 3)] == (2, 2)
    assert weeks[date(2026, 8, 10)] == (2, 0)
    assert weeks[date(2026, 8, 17)] == (2, 0)
    assert sum(new for new, _done in weeks.values()) == 7
    assert tr["growth_category"] == [
        ("Error de sistema", 0, 4, 4, None),
        ("Convenios", 1, 2, 1, 100.0),
    ]
    assert tr["growth_region"] == [
        ("Metropolitana de Santiago", 1, 4, 3, 300.0),
        ("Ñuble", 0, 2, 2, None),
    ]


def test_workload_per_agent(tickets, august):
    # Bruno's first answers 1, 2, 12, 20: median halfway between 2 and 12.
    assert reports.workload(august) == [
        ("Bruno Díaz", 4, pytest.approx(7.0), 1),
        ("Carla Soto", 1, pytest.approx(4.0), 0),
    ]


def test_workload_of_one_person_only(tickets, august, supervisor):
    assert reports.workload(august, person=supervisor) == [("Carla Soto", 1, pytest.approx(4.0), 0)]


# --- the page ------------------------------------------------------------------------------------
@pytest.fixture
def supervisor_client(client, supervisor):
    client.force_login(supervisor)
    return client


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def test_a_supervisor_sees_this_months_service_level_by_region(supervisor_client, tickets, frozen):
    r = supervisor_client.get(REPORT)
    assert r.status_code == 200
    html = r.content.decode()
    assert html.count("<h1") == 1
    assert "Nivel de servicio por región" in html
    assert 'id="grafico-servicio-region-title"' in html
    assert "75,0 % (3/4)" in html  # the chart's label
    assert (
        '<th scope="row">Ñuble</th><td class="num">1</td><td class="num">1</td><td class="num">100,0</td>'
        in html
    )
    assert r.context["scope"].start == date(2026, 8, 1)


def test_the_category_filter_narrows_the_page(supervisor_client, tickets, frozen, convenios):
    r = supervisor_client.get(REPORT, {"categoria": convenios.pk})
    table = r.context["tables"]["service_region"]
    assert table.rows == [["Metropolitana de Santiago", 1, 1, 100.0]]
    unfiltered = supervisor_client.get(REPORT).context["tables"]["service_region"]
    assert len(unfiltered.rows) == 2


def test_charts_use_no_inline_style_or_script(supervisor_client, tickets, frozen):
    html = supervisor_client.get(REPORT).content.decode()
    assert "<svg" in html
    assert "style=" not in html.split('id="content-main"')[1]
    assert "<script" not in html.split('id="content-main"')[1]
    # Numbers in SVG attributes are never written with a decimal comma.
    assert 'width="340.0"' in html or 'width="340"' in html


def test_wrong_dates_keep_what_was_typed_and_say_why(supervisor_client, tickets, frozen):
    r = supervisor_client.get(REPORT, {"desde": "2026-08-20", "hasta": "2026-08-01"})
    html = r.content.decode()
    assert "La fecha «Hasta» debe ser igual o posterior a «Desde»." in html
    assert 'value="2026-08-20"' in html
    assert "tables" not in r.context


def test_valid_dates_give_no_error(supervisor_client, tickets, frozen):
    r = supervisor_client.get(REPORT, {"desde": "2026-08-01", "hasta": "2026-08-20"})
    assert "errorlist" not in r.content.decode()
    assert r.context["scope"].end == date(2026, 8, 20)


def test_the_page_costs_the_same_queries_with_more_tickets(
    supervisor_client, tickets, frozen, agent, django_assert_max_num_queries
):
    # 27 on PostgreSQL, 29 on SQLite (each percentile there is its own ranked query), plus
    # the staff session's own checks (second factor, sign-in time) on every admin page.
    # The side bar's app list is read once a minute per process: the first page reads it.
    supervisor_client.get(REPORT)
    with django_assert_max_num_queries(32) as few:
        supervisor_client.get(REPORT)
    for hour in (9, 10, 11, 12):
        t = created(at(8, 25, hour), region=Region.objects.get(code="AP"))
        answer(t, agent, at(8, 25, hour + 1))
    with django_assert_max_num_queries(32) as more:
        supervisor_client.get(REPORT)
    assert len(more.captured_queries) == len(few.captured_queries)


def test_an_agent_sees_only_their_own_workload(agent_client, tickets, frozen):
    r = agent_client.get(REPORT)
    assert r.status_code == 200
    tables = r.context["tables"]
    assert list(tables) == ["workload"]
    assert tables["workload"].rows == [["Bruno Díaz", 4, 7.0, 1]]
    html = r.content.decode()
    assert "Carla Soto" not in html
    assert "Nivel de servicio" not in html
    assert "Descargar XLSX" not in html


def test_a_supervisor_sees_every_agents_workload(supervisor_client, tickets, frozen):
    rows = supervisor_client.get(REPORT).context["tables"]["workload"].rows
    assert [r[0] for r in rows] == ["Bruno Díaz", "Carla Soto"]


def test_an_agent_cannot_narrow_to_someone_else(agent_client, tickets, frozen, supervisor):
    r = agent_client.get(REPORT, {"agente": supervisor.pk})
    assert r.context["tables"]["workload"].rows[0][0] == "Bruno Díaz"


def test_staff_without_ticket_access_are_refused(client, db, frozen):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("dora", is_staff=True))
    assert client.get(REPORT).status_code == 403


def test_the_public_is_sent_to_the_log_in(client, db):
    r = client.get(REPORT)
    assert r.status_code == 302
    assert "/login/" in r["Location"]


def test_the_admin_index_links_the_report(supervisor_client):
    html = supervisor_client.get("/admin/").content.decode()
    assert f'href="{REPORT}"' in html
    assert "Nivel de servicio, pendientes y tendencias" in html


def test_an_agents_index_links_their_workload(agent_client):
    html = agent_client.get("/admin/").content.decode()
    assert "Mi carga de trabajo" in html
    assert "Nivel de servicio, pendientes y tendencias" not in html
