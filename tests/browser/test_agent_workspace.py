"""Issue 14 in a real browser: an agent's day at 1,280 px, and the same pages at 375 px."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from tests.conftest import make_ticket
from tickets.models import OutgoingEmail, Priority, Status, Ticket, TicketEvent

from .conftest import (
    BROWSER_DB,
    DESKTOP,
    PHONE,
    axe_violations,
    horizontal_overflow,
    new_context,
    screenshot,
    sign_in_to_admin,
)

pytestmark = [pytest.mark.browser, BROWSER_DB]
QUEUE = reverse("admin:tickets_ticket_changelist")


def sign_in(browser, live_server, *, viewport=DESKTOP, bypass_csp=False):
    ctx = new_context(browser, live_server, viewport=viewport, bypass_csp=bypass_csp)
    page = ctx.new_page()
    sign_in_to_admin(page, "bruno")
    return ctx, page


def test_the_agent_lands_on_a_queue_that_fits_at_1280(browser, live_server, agent):
    for i in range(8):
        make_ticket(
            name=f"Solicitante con un nombre bastante largo {i}",
            email=f"persona.con.correo.largo{i}@desarrollosocial.gob.cl",
            message="Estimados:\nNo puedo ingresar la rendición del proyecto porque el sistema muestra un error.",
        )
    ctx, page = sign_in(browser, live_server)
    expect(page).to_have_url(re.compile(re.escape(QUEUE) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Cola de tickets")
    table = page.locator("#result_list")
    expect(table).to_be_visible()
    for header in ["Estado", "Prioridad", "Asignado a", "Plazo de respuesta", "Actualizado"]:
        cell = table.locator("thead th", has_text=header).first
        box = cell.bounding_box()
        assert box and box["x"] + box["width"] <= DESKTOP["width"], header
    assert horizontal_overflow(page) <= 0
    assert page.evaluate(
        "() => { const t = document.querySelector('#result_list');"
        " return t.scrollWidth <= t.parentElement.clientWidth + 1; }"
    )
    expect(table.locator(".status-chip").first).to_have_text("Nuevo")
    expect(table.get_by_text("No puedo ingresar la rendición del proyecto").first).to_be_visible()
    expect(table.get_by_text(re.compile("vence en .* hábil")).first).to_be_visible()
    views = page.get_by_role("navigation", name="Vistas rápidas")
    views.get_by_role("link", name="Sin asignar").click()
    expect(views.get_by_role("link", name="Sin asignar")).to_have_attribute("aria-current", "page")
    screenshot(page, "queue")
    ctx.close()


def test_one_send_keeps_reply_priority_assignee_and_status(browser, live_server, agent):
    ticket = make_ticket()
    ctx, page = sign_in(browser, live_server)
    page.goto(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    page.get_by_label("Prioridad").select_option(label="Alto")
    page.get_by_label("Asignado a").select_option(label="Bruno Díaz")
    page.get_by_label("Nota interna (no se muestra al solicitante)").check()
    page.get_by_label(re.compile("^Mensaje")).fill("Reviso con TI y vuelvo.")
    page.get_by_role("button", name="Enviar y dejar en En curso").click()
    expect(page.get_by_text("el ticket quedó en estado En curso")).to_be_visible()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == (
        Status.IN_PROGRESS,
        Priority.HIGH,
        agent,
    )
    history = page.locator("#historial")
    for field in ["Estado", "Prioridad", "Asignado a"]:
        expect(history.get_by_role("cell", name=field, exact=True)).to_be_visible()
    expect(page.locator(".entry-internal")).to_contain_text("Reviso con TI y vuelvo.")
    ctx.close()


def test_a_ticket_changed_meanwhile_keeps_the_agents_text(browser, live_server, agent, supervisor):
    ticket = make_ticket()
    ctx, page = sign_in(browser, live_server)
    page.goto(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    page.get_by_label(re.compile("^Mensaje")).fill("Texto largo que no quiero perder.")
    ticket.add_requester_reply(message="Olviden mi ticket, ya funciona.")
    page.get_by_role("button", name="Enviar", exact=True).click()
    expect(page.get_by_role("heading", name="Cambios desde que abrió el ticket")).to_be_visible()
    expect(page.locator(".changed-meanwhile")).to_contain_text("Olviden mi ticket, ya funciona.")
    expect(page.get_by_label(re.compile("^Mensaje"))).to_have_value(
        "Texto largo que no quiero perder."
    )
    assert not ticket.replies.filter(kind="agent").exists()
    page.get_by_role("button", name="Enviar", exact=True).click()
    expect(page.get_by_text("Respuesta enviada al solicitante.")).to_be_visible()
    ctx.close()


def test_a_callers_ticket_end_to_end_with_the_confirmation(browser, live_server, agent):
    ctx, page = sign_in(browser, live_server)
    page.get_by_role("link", name="Nuevo ticket para un solicitante").click()
    page.get_by_label("Canal").select_option(label="teléfono")
    page.get_by_label(re.compile("^Nombre")).fill("Pedro Soto")
    page.get_by_label(re.compile("^E-mail")).fill("psoto@example.org")
    page.get_by_label(re.compile("^Región")).select_option(label="Arica y Parinacota")
    page.get_by_label(re.compile("^Número de proyecto")).fill("29928")
    page.get_by_label(re.compile("^Mensaje")).fill("Llamó: no puede adjuntar la boleta.")
    page.get_by_role("button", name="Crear ticket").click()
    # The click only sends the form: the ticket exists once its confirmation is shown.
    expect(
        page.get_by_text(re.compile(r"ID de seguimiento [0-9A-Z]{3}-[0-9A-Z]{3}-[0-9A-Z]{4}"))
    ).to_be_visible()
    ticket = Ticket.objects.get(email="psoto@example.org")
    expect(page.get_by_text(f"ID de seguimiento {ticket.tracking_id}")).to_be_visible()
    expect(page.get_by_text("Canal: teléfono")).to_be_visible()
    row = OutgoingEmail.objects.get(kind="ticket_created", to="psoto@example.org")
    assert ticket.tracking_id in row.subject
    assert ticket.channel == "telefono"
    ctx.close()
    assert mail is not None


def test_merging_a_duplicate_and_its_old_tracking_id(browser, live_server, agent):
    main = make_ticket()
    dup = make_ticket(message="Mismo problema: no carga la rendición")
    ctx, page = sign_in(browser, live_server)
    page.goto(reverse("admin:tickets_ticket_change", args=[dup.pk]))
    page.get_by_role("link", name="Fusionar").click()
    page.get_by_label("Ticket principal").fill(main.tracking_id)
    page.get_by_role("button", name="Fusionar").click()
    expect(page.get_by_text(f"1 ticket fusionado en #{main.number}.")).to_be_visible()
    expect(page.locator("#conversacion")).to_contain_text("Mismo problema: no carga la rendición")
    ctx.close()
    public_ctx = new_context(browser, live_server)
    public = public_ctx.new_page()
    public.goto(f"/ticket/{dup.tracking_id}/")
    expect(public).to_have_url(re.compile(re.escape(main.tracking_id)))
    expect(public.get_by_text("Mismo problema: no carga la rendición")).to_be_visible()
    public_ctx.close()
    assert TicketEvent.objects.filter(ticket=main, field="merge").exists()


def test_closing_as_cerrado_reaches_the_outbox(browser, live_server, agent):
    ticket = make_ticket()
    ctx, page = sign_in(browser, live_server)
    page.goto(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    page.get_by_label("Estado").select_option(label="Cerrado")
    page.get_by_role("button", name="Enviar", exact=True).click()
    expect(page.get_by_text("el ticket quedó en estado Cerrado")).to_be_visible()
    assert OutgoingEmail.objects.filter(ticket=ticket, kind="ticket_closed").count() == 1
    ctx.close()


@pytest.mark.parametrize("viewport", [PHONE], ids=["375"])
def test_queue_and_ticket_page_have_no_page_wide_scroll_at_375(
    browser, live_server, agent, viewport
):
    ticket = make_ticket()
    ctx, page = sign_in(browser, live_server, viewport=viewport)
    assert horizontal_overflow(page) <= 0, "queue"
    screenshot(page, "queue")
    page.goto(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    assert horizontal_overflow(page) <= 0, "ticket page"
    screenshot(page, "admin-ticket-page")
    ctx.close()


def test_axe_finds_nothing_serious_on_the_workspace(browser, live_server, agent):
    ticket = make_ticket()
    ctx, page = sign_in(browser, live_server, bypass_csp=True)
    pages = {
        "queue": QUEUE,
        "ticket": reverse("admin:tickets_ticket_change", args=[ticket.pk]),
        "caller": reverse("admin:tickets_ticket_add"),
    }
    found = {}
    for name, url in pages.items():
        page.goto(url)
        found[name] = axe_violations(page)
    for name, violations in found.items():
        for v in violations:
            print(name, v["id"], v["help"], v["nodes"])
    assert found == {name: [] for name in pages}
    ctx.close()
