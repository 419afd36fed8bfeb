"""Keyboard use: a skip link, every control reachable in order, and a focus one can see."""

import pytest
from playwright.sync_api import expect

from .conftest import BROWSER_DB

pytestmark = [pytest.mark.browser, BROWSER_DB]

FOCUSED = """() => {
  const e = document.activeElement, s = getComputedStyle(e);
  return {
    name: (e.getAttribute("aria-label") || e.innerText || e.value || e.id || e.tagName).trim().slice(0, 40),
    visible: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2,
  };
}"""


def tab_until(page, last_name, limit=80):
    """Presses Tab until the control named last_name has focus; returns what was focused."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(FOCUSED))
        if seen[-1]["name"] == last_name:
            return seen
    raise AssertionError(f"{last_name!r} never got the focus: {[s['name'] for s in seen]}")


def test_the_skip_link_is_first_and_leads_to_the_content(page):
    page.goto("/ticket/nuevo/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Saltar al contenido")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0  # shown on screen while focused
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Nombre", exact=False).first).to_be_focused()


def test_every_control_of_the_form_is_reached_with_a_visible_focus(page):
    page.goto("/ticket/nuevo/")
    seen = tab_until(page, "Enviar ticket")
    names = [s["name"] for s in seen]
    for control in (
        "English",
        "Enviar un ticket",
        "Ver tickets existentes",
        "¿Qué es el número de proyecto?",
        "Adjuntar más archivos",
        "Límite de carga de archivos",
    ):
        assert control in names
    assert [s["name"] for s in seen if not s["visible"]] == []


def test_every_control_of_the_ticket_page_is_reached_with_a_visible_focus(page, ticket):
    page.goto(ticket.get_absolute_url())
    seen = tab_until(page, "Enviar respuesta")
    assert "Marcar como Resuelto" in [s["name"] for s in seen]
    assert [s["name"] for s in seen if not s["visible"]] == []


def test_the_focus_check_would_notice_a_hidden_outline(page):
    page.goto("/ticket/ver/")
    page.evaluate("document.querySelector('button.primary').style.outline = 'none'")
    seen = tab_until(page, "Ver ticket")
    assert seen[-1] == {"name": "Ver ticket", "visible": False}
