"""Real-browser tests: Playwright for Python driving Debian's Chromium against the live server.

Run with `make test-browser` (pytest -m browser). Chromium comes from apt
(`apt-get install -y chromium`); Playwright is never allowed to download a browser.
"""

import os
import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect, sync_playwright

from tests.conftest import PDF, PNG
from tickets.models import Category, Region, RegionalContact

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"
AXE_JS = Path(__file__).with_name("vendor") / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
NARROWEST = {"width": 320, "height": 640}
# How long an action or an expect() may wait. Playwright's own defaults (30 s for actions,
# 5 s for expect) differ; 5 s is too short for a form post with files, then the next page,
# on a loaded two-core CI machine. One budget for both.
TIMEOUT = 15_000
# Every browser test needs the migrations' reference data (categories, regions, groups)
# back after the flush that ends a transactional test.
BROWSER_DB = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(scope="session")
def _media_url_for_live_server():
    # Django's live server wraps the site in a handler that serves MEDIA_URL and cannot
    # take our MEDIA_URL = None (attachments are only ever served by a view). Give it a
    # prefix that nothing links to, before the server starts.
    from django.conf import settings

    previous = settings.MEDIA_URL
    settings.MEDIA_URL = "/__media-not-served__/"
    yield
    settings.MEDIA_URL = previous


@pytest.fixture(scope="session")
def live_server(_media_url_for_live_server, live_server):
    return live_server


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's Chromium (apt-get install -y chromium)"
        )
    # Playwright's sync API keeps an event loop in this thread; Django would then refuse
    # ORM calls from the test (SynchronousOnlyOperation) although they are synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    expect.set_options(timeout=TIMEOUT)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def new_context(browser, live_server, *, viewport=DESKTOP, bypass_csp=False):
    ctx = browser.new_context(
        base_url=live_server.url,
        viewport=viewport,
        locale="es-CL",  # Accept-Language: the portal's default language, as for its users
        bypass_csp=bypass_csp,
        service_workers="block",
    )
    ctx.set_default_timeout(TIMEOUT)
    return ctx


@pytest.fixture
def context(browser, live_server):
    """A browser window as the public has it: CSP enforced."""
    ctx = new_context(browser, live_server)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def axe_context(browser, live_server):
    """CSP bypassed so that axe-core can be injected; test_csp.py checks the pages without it."""
    ctx = new_context(browser, live_server, bypass_csp=True)
    yield ctx
    ctx.close()


@pytest.fixture
def files(tmp_path):
    """Two real, tiny files to attach (the upload policy checks their content)."""
    pdf = tmp_path / "informe.pdf"
    pdf.write_bytes(PDF)
    png = tmp_path / "pantalla.png"
    png.write_bytes(PNG)
    return pdf, png


@pytest.fixture
def contacts(db):
    """The regional-contacts page with something on it."""
    RegionalContact.objects.create(
        region=Region.objects.get(code="AP"),
        name="Nancy Pereira Romero",
        role="Profesional SIGEC",
        email="npereira@desarrollosocial.gob.cl",
        phone="+56 58 220 0000",
    )
    RegionalContact.objects.create(
        region=Region.objects.get(code="RM"),
        name="Luis Castro Riquelme",
        role="Profesional SIGEC",
        email="lcastro@desarrollosocial.gob.cl",
    )


# --- helpers ------------------------------------------------------------------------------
def fill_ticket_form(
    page, *, name="Alicia Rojas", email="alicia@desarrollosocial.gob.cl", files=(), captcha="PASSED"
):
    """Fills the form as a person would: by the visible labels."""
    page.get_by_label(re.compile(r"^Nombre")).fill(name)
    page.get_by_label(re.compile(r"^E-mail")).fill(email)
    page.get_by_label(re.compile(r"^Categoría")).select_option(
        label=Category.objects.get(name="Error de sistema").name
    )
    page.get_by_label(re.compile(r"^Región")).select_option(label="Arica y Parinacota")
    page.get_by_label(re.compile(r"^Número de proyecto")).fill(
        "http://sigec.mideplan.cl/sigec/view-proyecto.htm?proyecto=29928"
    )
    page.get_by_label(re.compile(r"^Mensaje")).fill(
        "No puedo ingresar la rendición del proyecto.\nMe aparece un error 500."
    )
    for i, path in enumerate(files, start=1):
        page.get_by_label(f"Archivo {i}", exact=True).set_input_files(str(path))
    page.get_by_label(re.compile(r"^SPAM Prevención")).fill(captcha)


def sign_in_to_admin(page, username, password="clave-de-prueba-123"):
    """Signs in on the admin's log-in page and waits until the next page has loaded.

    Clicking "submit" only starts the POST: a goto() issued before its answer arrives
    cancels it, the session cookie is never set and the next page is the log-in page
    again; a measurement taken meanwhile would measure the log-in page."""
    login = reverse("admin:login")
    page.goto(login)
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url(lambda url: login not in url)


def screenshot(page, name):
    """A full-page PNG at the current width, for a reviewer (screenshots/ is ignored by git)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    width = page.viewport_size["width"]
    kind = "desktop" if width >= 1000 else f"phone-{width}"
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{kind}.png"), full_page=True)


def horizontal_overflow(page):
    """How many pixels the page is wider than the window (0: no horizontal scrolling)."""
    # Called right after a click, the next document may not exist yet.
    page.wait_for_load_state()
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def axe_violations(page, impacts=("serious", "critical")):
    """axe-core's WCAG 2.0/2.1 A and AA rules (plus best practices) on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        """() => axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
            resultTypes: ["violations"],
        })"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]
