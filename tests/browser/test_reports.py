"""The supervisors' report in a real browser: axe finds nothing serious, the charts draw under
the enforced Content-Security-Policy, and a supervisor filters by category and downloads the
same numbers as a spreadsheet that opens."""

import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.conftest import make_ticket
from tickets.models import Category, Region

from .conftest import (
    BROWSER_DB,
    PHONE,
    axe_violations,
    horizontal_overflow,
    new_context,
    screenshot,
    sign_in_to_admin,
)

pytestmark = [pytest.mark.browser, BROWSER_DB]


@pytest.fixture
def some_tickets(agent):
    convenios = Category.objects.get(name="Convenios")
    for code, category in [("RM", None), ("NB", convenios), ("AP", convenios), ("RM", convenios)]:
        fields = {"region": Region.objects.get(code=code)}
        if category:
            fields["category"] = category
        t = make_ticket(**fields)
        t.add_agent_reply(user=agent, message="Revise la sección Rendiciones.")


def log_in(browser, live_server, *, bypass_csp=False, viewport=None):
    kwargs = {"bypass_csp": bypass_csp}
    if viewport:
        kwargs["viewport"] = viewport
    ctx = new_context(browser, live_server, **kwargs)
    page = ctx.new_page()
    sign_in_to_admin(page, "carla")
    return ctx, page


def test_the_report_page_passes_axe(browser, live_server, supervisor, some_tickets):
    ctx, page = log_in(browser, live_server, bypass_csp=True)
    page.goto(reverse("admin:tickets_ticket_report"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Informes")
    assert axe_violations(page) == []
    screenshot(page, "admin-report")
    ctx.close()


def test_the_report_fits_a_phone(browser, live_server, supervisor, some_tickets):
    ctx, page = log_in(browser, live_server, bypass_csp=True, viewport=PHONE)
    page.goto(reverse("admin:tickets_ticket_report"))
    assert axe_violations(page) == []
    # Admin's own header and tables set the page's width; the charts shrink with it.
    width = page.evaluate(
        "Math.max(...[...document.querySelectorAll('.chart-svg')].map(e => e.getBoundingClientRect().right))"
    )
    assert width <= PHONE["width"] + horizontal_overflow(page)
    ctx.close()


def test_a_supervisor_filters_by_category_and_downloads_the_same_numbers(
    browser, live_server, supervisor, some_tickets
):
    ctx, page = log_in(browser, live_server)  # CSP enforced
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(reverse("admin:tickets_ticket_report"))
    chart = page.locator("#grafico-servicio-region-title")
    expect(chart).to_have_count(1)
    bar = page.locator("svg[aria-labelledby='grafico-servicio-region-title'] rect.chart-bar").first
    # Drawn with its stylesheet colour: the CSP let the page's own CSS through.
    assert bar.evaluate("e => getComputedStyle(e).fill") in (
        "rgb(32, 84, 147)",
        "rgb(127, 178, 240)",
    )
    page.get_by_label("Categoría:", exact=True).select_option(label="Convenios")
    page.get_by_role("button", name="Ver informe").click()
    # The unfiltered table has three rows too (RM, NB, AP): only the address tells that the
    # filtered report has arrived. Read it and download from it once it has loaded.
    page.wait_for_url(re.compile(r"[?&]categoria=\d+"))
    table = page.locator("#tabla-service_region")
    expect(table.locator("tbody tr")).to_have_count(3)
    shown = [
        [c.strip() for c in row.locator("th, td").all_inner_texts()]
        for row in table.locator("tbody tr").all()
    ]
    with page.expect_download() as info:
        page.get_by_role("link", name="Descargar XLSX").click()
    book = openpyxl.load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    sheet = book["Nivel de servicio por región"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [s[0] for s in shown]
    assert [r[1] for r in rows] == [int(s[1]) for s in shown]
    assert all(re.fullmatch(r"[\d,]+", s[3]) for s in shown)
    assert errors == []
    ctx.close()
