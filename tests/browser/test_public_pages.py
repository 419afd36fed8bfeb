"""Every public page, in a real browser: axe-core finds no serious or critical violation, the
page fits a phone without horizontal scrolling, the Content-Security-Policy holds, and a
screenshot at desktop and phone width is left in screenshots/ for a reviewer."""

import pytest
from django.urls import reverse

from tests.conftest import make_ticket, pdf, png
from tickets import ratings

from .conftest import (
    BROWSER_DB,
    DESKTOP,
    NARROWEST,
    PHONE,
    axe_violations,
    fill_ticket_form,
    horizontal_overflow,
    screenshot,
)

pytestmark = [pytest.mark.browser, BROWSER_DB]


@pytest.fixture
def ticket_with_replies(agent):
    """A ticket as it looks after some back and forth: files, an answer, a request for information."""
    t = make_ticket(files=[pdf(), png()])
    t.add_agent_reply(
        user=agent,
        message="Le cambiamos la clave. Pruebe ingresar de nuevo.",
        files=[pdf("instructivo.pdf")],
    )
    t.add_requester_reply(message="Sigue sin funcionar.", files=[png("error.png")])
    t.add_agent_reply(
        user=agent, message="Envíenos el número de convenio, por favor.", kind="information"
    )
    return t


# Each public page and how a person gets to it. The name is the screenshot's file name.
def _home(page, t):
    page.goto("/")


def _submit(page, t):
    page.goto("/ticket/nuevo/")


def _submit_with_errors(page, t):
    page.goto("/ticket/nuevo/")
    page.get_by_label("Nombre", exact=False).first.fill("Alicia Rojas")
    page.get_by_role("button", name="Enviar ticket").click()
    page.wait_for_selector("#error-summary")


def _submitted(page, t, files=()):
    page.goto("/ticket/nuevo/")
    fill_ticket_form(page)
    page.get_by_role("button", name="Enviar ticket").click()
    page.wait_for_selector(".tracking-id")


def _lookup(page, t):
    page.goto("/ticket/ver/")


def _lookup_with_errors(page, t):
    page.goto("/ticket/ver/")
    page.get_by_label("ID de seguimiento", exact=False).fill("123")
    page.get_by_role("button", name="Ver ticket").click()
    page.wait_for_selector("#error-summary")


def _ticket(page, t):
    page.goto(t.get_absolute_url())


def _ticket_with_errors(page, t):
    page.goto(t.get_absolute_url())
    page.get_by_role("button", name="Enviar respuesta").click()
    page.wait_for_selector("#error-summary")


def _resolve_confirm(page, t):
    page.goto(t.get_absolute_url())
    page.get_by_role("link", name="Marcar como Resuelto").click()
    page.wait_for_url("**/resolver/")


def _forgotten_id(page, t):
    page.goto("/ticket/olvide-mi-id/")


def _forgotten_id_sent(page, t):
    page.goto("/ticket/olvide-mi-id/")
    page.get_by_label("E-mail", exact=False).fill(t.email)
    page.get_by_role("button", name="Enviarme mis ID de seguimiento").click()
    page.wait_for_selector("h1:has-text('Revise su correo')")


def _upload_limits(page, t):
    page.goto("/limite-de-carga/")


def _regional_contacts(page, t):
    page.goto("/contactos-regionales/")


def _privacy_notice(page, t):
    page.goto("/aviso-de-privacidad/")


def _not_found(page, t):
    page.goto("/ticket/AAA-BBB-2222/")


def _lookup_remembered(page, t):
    """The look-up page of a browser that opened tickets: their list and "Olvidar"."""
    page.goto("/ticket/ver/")
    page.get_by_label("ID de seguimiento", exact=False).fill(t.tracking_id)
    page.get_by_role("button", name="Ver ticket").click()
    page.wait_for_url(f"**{t.get_absolute_url()}")
    page.goto("/ticket/ver/")
    page.wait_for_selector(".ticket-list")


def _ticket_resolved(page, t):
    """A resolved ticket asks "¿Cómo fue la atención?"."""
    t.mark_resolved()
    page.goto(t.get_absolute_url())
    page.wait_for_selector("#calificacion")


def _rate_by_link(page, t):
    t.mark_resolved()
    t.refresh_from_db()
    page.goto(reverse("tickets:rate_by_link", args=[ratings.token_for(t)]))


def _rate_link_invalid(page, t):
    page.goto(reverse("tickets:rate_by_link", args=["no-es-un-enlace"]))


PAGES = {
    "home": _home,
    "submit": _submit,
    "submit-errors": _submit_with_errors,
    "submitted": _submitted,
    "lookup": _lookup,
    "lookup-errors": _lookup_with_errors,
    "ticket": _ticket,
    "ticket-reply-errors": _ticket_with_errors,
    "resolve-confirm": _resolve_confirm,
    "forgotten-id": _forgotten_id,
    "forgotten-id-sent": _forgotten_id_sent,
    "upload-limits": _upload_limits,
    "regional-contacts": _regional_contacts,
    "privacy-notice": _privacy_notice,
    "not-found": _not_found,
    "lookup-remembered": _lookup_remembered,
    "ticket-resolved": _ticket_resolved,
    "rate-by-link": _rate_by_link,
    "rate-link-invalid": _rate_link_invalid,
}
# Pages answered with an error status on purpose: Chromium logs the document's status.
ERROR_STATUS = {"ticket-reply-errors": 400, "not-found": 404, "rate-link-invalid": 404}


@pytest.mark.parametrize("name", PAGES)
def test_page_passes_axe_fits_a_phone_and_is_photographed(
    name, axe_context, ticket_with_replies, contacts
):
    page = axe_context.new_page()
    PAGES[name](page, ticket_with_replies)
    assert page.locator("h1").count() == 1

    found = {}
    for viewport in (DESKTOP, PHONE, NARROWEST):
        page.set_viewport_size(viewport)
        screenshot(page, name)
        assert horizontal_overflow(page) <= 0, f"{name} scrolls sideways at {viewport['width']} px"
        found[viewport["width"]] = axe_violations(page)
    assert found == {1280: [], 375: [], 320: []}


def _request_failed(request, problems):
    # A page left before Chromium fetched its favicon aborts that fetch (net::ERR_ABORTED):
    # the navigation's doing, not a refusal. A CSP refusal fails as ERR_BLOCKED_BY_CSP.
    if request.failure != "net::ERR_ABORTED":
        problems.append(f"request failed: {request.url} ({request.failure})")


@pytest.mark.parametrize("name", PAGES)
def test_page_breaks_no_content_security_policy_rule(name, page, ticket_with_replies, contacts):
    """Without bypass_csp: the browser reports no refused script, style, image or font, and no error."""
    problems, documents = [], []

    def on_console(m):
        expected = (
            name in ERROR_STATUS
            and m.location.get("url") == page.url
            and str(ERROR_STATUS[name]) in m.text
        )
        if m.type in ("error", "warning") and not expected:
            problems.append(f"console {m.type}: {m.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: _request_failed(r, problems))
    page.on(
        "response", lambda r: documents.append(r) if r.request.resource_type == "document" else None
    )
    PAGES[name](page, ticket_with_replies)
    page.wait_for_load_state("load")
    assert documents and all(
        "script-src 'self'" in d.headers.get("content-security-policy", "") for d in documents
    )
    # The stylesheet really applied (a refused one would leave the menu without its
    # Kit Digital blue), and so did the fonts served by the portal.
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.main-nav')).backgroundColor")
        == "rgb(15, 105, 196)"
    )
    page.evaluate("document.fonts.ready")
    assert page.evaluate(
        "document.fonts.check('16px Roboto') && document.fonts.check('700 16px \"Roboto Slab\"')"
    )
    assert page.evaluate(
        "[...document.fonts].some(f => f.family.includes('Roboto') && f.status === 'loaded')"
    )
    assert problems == []


def test_the_csp_check_would_notice_an_inline_script(page, live_server):
    """The sibling that proves the check above can fail: the same policy refuses an inline script."""
    page.goto("/")
    with page.expect_console_message(
        lambda m: m.type == "error" and "Content Security Policy" in m.text
    ):
        page.evaluate(
            """() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1'; document.body.append(s); }"""
        )
    assert page.evaluate("window.ran") is None


def test_the_axe_check_would_notice_a_missing_label_and_alt(axe_context, live_server):
    """The sibling that proves axe runs: a page with an unlabelled input and an image without alt."""
    page = axe_context.new_page()
    page.goto("/")
    page.evaluate("""() => { document.querySelector('main').insertAdjacentHTML('beforeend',
        '<img src="/static/css/portal.css"><input type="text" name="x">'); }""")
    ids = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "label"} <= ids
