"""The user manual's journey, done in a real browser as a requester and as an agent would."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.conftest import PDF, make_ticket
from tickets.models import Status, Ticket

from .conftest import (
    BROWSER_DB,
    DESKTOP,
    NARROWEST,
    fill_ticket_form,
    horizontal_overflow,
    new_context,
    screenshot,
    sign_in_to_admin,
)

pytestmark = [pytest.mark.browser, BROWSER_DB]


def fits(page):
    """Nothing to scroll sideways, whatever the width."""
    assert horizontal_overflow(page) <= 0, (
        f"{page.url} scrolls sideways at {page.viewport_size['width']} px"
    )


@pytest.mark.parametrize("viewport", [DESKTOP, NARROWEST], ids=["desktop", "phone-320"])
def test_a_requester_follows_the_manual_from_sending_to_resolving(
    viewport, browser, live_server, files
):
    ctx = new_context(browser, live_server, viewport=viewport)
    page = ctx.new_page()

    # Acceso plataforma: the home page offers "Enviar un ticket".
    page.goto("/")
    fits(page)
    page.get_by_role("main").get_by_role("link", name="Enviar un ticket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enviar un ticket")
    expect(page.get_by_text("Los campos obligatorios están marcados con *")).to_be_visible()
    fits(page)

    # Ingreso de información: every field, two files, the captcha.
    fill_ticket_form(page, files=files)
    page.get_by_text("¿Qué es el número de proyecto?").click()
    expect(page.get_by_text("view-proyecto.htm?proyecto=")).to_be_visible()
    expect(page.get_by_text("como su dirección IP")).to_be_visible()
    fits(page)
    page.get_by_role("button", name="Enviar ticket").click()

    # Confirmación de envío: the tracking ID.
    expect(page.get_by_role("heading", level=1)).to_have_text("Ticket ha sido enviado")
    tracking_id = page.locator(".success .tracking-id").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{3}-[0-9A-Z]{3}-[0-9A-Z]{4}", tracking_id)
    expect(page.get_by_role("link", name="Visualizar su ticket")).to_be_visible()
    fits(page)
    ticket = Ticket.objects.get(tracking_id=tracking_id)
    assert (ticket.name, ticket.project_number, ticket.region.code) == ("Alicia Rojas", 29928, "AP")
    assert sorted(a.original_name for a in ticket.attachments.all()) == [
        "informe.pdf",
        "pantalla.png",
    ]
    ctx.close()

    # Another day, another browser: "Ver tickets existentes" and the ID.
    ctx = new_context(browser, live_server, viewport=viewport)
    page = ctx.new_page()
    page.goto("/")
    page.get_by_role("navigation", name="Menú principal").get_by_role(
        "link", name="Ver tickets existentes"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ver tickets existentes")
    fits(page)
    page.get_by_label(re.compile("^ID de seguimiento")).fill(tracking_id.lower().replace("-", ""))
    page.get_by_role("button", name="Ver ticket").click()

    # Visualización del ticket.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Caso ID de seguimiento: {tracking_id}"
    )
    expect(page.locator(".facts .status")).to_have_text("Nuevo")
    expect(page.get_by_role("link", name="informe.pdf")).to_be_visible()
    fits(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="informe.pdf").click()
    assert download.value.suggested_filename == "informe.pdf"
    assert download.value.path().read_bytes() == PDF

    # Añadir respuesta, with a file.
    page.get_by_label(re.compile("^Mensaje")).fill("Adjunto el pantallazo del error.")
    page.get_by_label("Archivo 1", exact=True).set_input_files(str(files[1]))
    page.get_by_role("button", name="Enviar respuesta").click()
    expect(
        page.get_by_role("status").filter(has_text="Su respuesta fue agregada al ticket.")
    ).to_be_visible()
    expect(page.get_by_text("Adjunto el pantallazo del error.")).to_be_visible()
    expect(page.locator(".facts .status")).to_have_text("Esperando respuesta")
    fits(page)

    # Marcar como Resuelto, confirmed.
    page.get_by_role("link", name="Marcar como Resuelto").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Marcar como Resuelto")
    fits(page)
    page.get_by_role("button", name="Sí, marcar como Resuelto").click()
    expect(page.locator(".facts .status")).to_have_text("Resuelto")
    expect(page.get_by_role("link", name="Marcar como Resuelto")).to_have_count(0)
    fits(page)
    ctx.close()

    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert ticket.attachments.count() == 3
    assert ticket.replies.get().message == "Adjunto el pantallazo del error."


def test_a_form_error_keeps_what_was_typed_and_leads_to_the_field(page, files):
    page.goto("/ticket/nuevo/")
    fill_ticket_form(page, files=files)
    page.get_by_label(re.compile("^Número de proyecto")).fill("el de Arica")
    page.get_by_role("button", name="Enviar ticket").click()

    # The summary is read first: focus is on it, and it names the field.
    summary = page.locator("#error-summary")
    expect(page).to_have_title(re.compile("^Error: Enviar un ticket"))
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("Revise los siguientes datos")
    expect(summary).to_contain_text("vuelva a adjuntarlos")
    project = page.get_by_label(re.compile("^Número de proyecto"))
    expect(project).to_have_attribute("aria-invalid", "true")
    expect(project).to_have_accessible_description(
        re.compile("Ingrese el número de proyecto.*Escriba el número de proyecto")
    )
    # Everything typed is still there.
    expect(page.get_by_label(re.compile("^Nombre"))).to_have_value("Alicia Rojas")
    expect(page.get_by_label(re.compile("^E-mail"))).to_have_value("alicia@desarrollosocial.gob.cl")
    expect(page.get_by_label(re.compile("^Categoría")).locator("option:checked")).to_have_text(
        "Error de sistema"
    )
    expect(page.get_by_label(re.compile("^Región")).locator("option:checked")).to_have_text(
        "Arica y Parinacota"
    )
    expect(page.get_by_label(re.compile("^Mensaje"))).to_have_value(
        re.compile("^No puedo ingresar la rendición")
    )
    expect(project).to_have_value("el de Arica")

    # The summary's link puts the cursor in the field; fixing it sends the ticket.
    summary.get_by_role("link", name=re.compile("^Número de proyecto")).click()
    expect(project).to_be_focused()
    project.fill("29928")
    page.get_by_label("Archivo 1", exact=True).set_input_files(str(files[0]))
    page.get_by_label(re.compile("^SPAM Prevención")).fill("PASSED")
    page.get_by_role("button", name="Enviar ticket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ticket ha sido enviado")
    assert Ticket.objects.get().attachments.count() == 1


def test_the_captcha_has_a_text_alternative_and_a_new_image_on_request(page):
    page.goto("/ticket/nuevo/")
    page.get_by_label(re.compile("^Nombre")).fill("Alicia Rojas")
    image = page.locator("img.captcha")
    expect(image).to_have_attribute("alt", re.compile("código de verificación"))
    answer = page.get_by_label(re.compile("^SPAM Prevención"))
    expect(answer).to_have_accessible_description(
        re.compile("Escriba el número que aparece en la imagen")
    )
    old_src, old_key = image.get_attribute("src"), page.locator("#id_captcha_0").input_value()
    answer.fill("123")

    page.get_by_role("link", name=re.compile("Obtener una imagen nueva")).click()
    expect(image).not_to_have_attribute("src", old_src)
    expect(page.locator("#id_captcha_0")).not_to_have_value(old_key)
    expect(answer).to_be_focused()
    expect(answer).to_have_value("")
    expect(page.locator("#captcha-status")).to_have_text(re.compile("Se cargó una imagen nueva"))
    # Only the image changed: what was typed above stays.
    expect(page.get_by_label(re.compile("^Nombre"))).to_have_value("Alicia Rojas")
    # The new image loads after its src changes: wait for it rather than race it.
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )


def test_an_agent_answers_in_the_admin_and_the_requester_sees_it(browser, live_server, agent):
    ticket = make_ticket()

    ctx = new_context(browser, live_server)
    staff = ctx.new_page()
    sign_in_to_admin(staff, "bruno")
    staff.goto(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    expect(staff.get_by_role("heading", name="Responder y cambiar el ticket")).to_be_visible()
    box = staff.locator("section.reply-form")
    box.get_by_label("Respuesta pública").check()
    box.get_by_label(re.compile("^Mensaje")).fill(
        "Le cambiamos la clave. Pruebe ingresar de nuevo."
    )
    staff.get_by_role("button", name="Enviar", exact=True).click()
    expect(staff.get_by_text("Respuesta enviada al solicitante.")).to_be_visible()
    screenshot(staff, "admin-ticket")
    ctx.close()

    ctx = new_context(browser, live_server)
    page = ctx.new_page()
    page.goto(ticket.get_absolute_url())
    expect(page.locator(".facts .status")).to_have_text("Respondido")
    entry = page.locator(".entry-agent")
    expect(entry).to_contain_text("Le cambiamos la clave. Pruebe ingresar de nuevo.")
    expect(entry.get_by_role("heading")).to_contain_text("Mesa de Ayuda · Bruno Díaz")
    expect(page.get_by_text("Su plazo para responder")).to_be_visible()
    ctx.close()


def test_the_language_switch_turns_the_page_to_english_and_back(page):
    page.goto("/ticket/ver/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.get_by_role("button", name="English").click()
    # The same page comes back, in English.
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url.endswith("/ticket/ver/")
    screenshot(page, "lookup-english")
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ver tickets existentes")
