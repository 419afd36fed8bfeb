"""The requester's side, finished (issue 20), in a real browser: rating the answer from the
ticket page and from the e-mail, the captcha read aloud, the browser's tickets at hand, a long
paste never cut, a language switch that keeps what was typed."""

import re

import pytest
from captcha.models import CaptchaStore
from playwright.sync_api import expect

from tests.conftest import make_ticket
from tickets.models import OutgoingEmail, Rating, Status, Ticket

from .conftest import BROWSER_DB, NARROWEST, fill_ticket_form, new_context, screenshot

pytestmark = [pytest.mark.browser, BROWSER_DB]


def test_a_requester_rates_the_answer_on_the_ticket_page_and_changes_it(page):
    ticket = make_ticket()
    ticket.mark_resolved()
    page.goto(ticket.get_absolute_url())
    box = page.locator(".rating-box")
    expect(box.get_by_role("heading", name="¿Cómo fue la atención?")).to_be_visible()

    # Never required, but a score is needed to send one: the error says so.
    box.get_by_role("button", name="Enviar calificación").click()
    expect(page.locator("#error-summary")).to_contain_text("Elija una calificación")
    assert not Rating.objects.exists()

    page.get_by_label("4 · Buena").check()
    page.get_by_label(re.compile("^Comentario")).fill("Me explicaron todo con paciencia.")
    page.get_by_role("button", name="Enviar calificación").click()
    expect(page.get_by_role("status").filter(has_text="Gracias por calificar")).to_be_visible()
    expect(page.locator(".rating-given")).to_have_text(
        "Usted calificó la atención con 4 de 5 (Buena)."
    )
    expect(page.get_by_label("4 · Buena")).to_be_checked()

    page.get_by_label("5 · Muy buena").check()
    page.get_by_role("button", name="Cambiar calificación").click()
    expect(page.locator(".rating-given")).to_contain_text("5 de 5")
    assert list(Rating.objects.values_list("score", "comment")) == [
        (5, "Me explicaron todo con paciencia.")
    ]


def test_a_requester_rates_from_the_email_link_in_a_browser_that_never_saw_the_ticket(
    browser, live_server, agent
):
    ticket = make_ticket()
    ticket.change(user=agent, status=Status.RESOLVED)
    body = OutgoingEmail.objects.get(ticket=ticket, kind="ticket_resolved").body_text
    link = re.search(r"https?://\S+/calificacion/\S+/", body).group(0)
    path = re.sub(r"^https?://[^/]+", "", link)
    assert ticket.tracking_id not in path

    ctx = new_context(browser, live_server, viewport=NARROWEST)
    page = ctx.new_page()
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("¿Cómo fue la atención?")
    expect(page.locator("main .tracking-id")).to_have_text(ticket.tracking_id)
    page.get_by_label("3 · Regular").check()
    page.get_by_role("button", name="Enviar calificación").click()
    expect(page.get_by_role("status").filter(has_text="Gracias por calificar")).to_be_visible()
    rating = Rating.objects.get()
    assert (rating.ticket_id, rating.score) == (ticket.pk, 3)

    # The same link with one character changed rates nothing.
    page.goto(path[:-2] + ("x" if path[-2] != "x" else "y") + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Este enlace ya no sirve para calificar"
    )
    assert Rating.objects.get().score == 3
    ctx.close()


def test_a_blind_requester_sends_a_ticket_with_the_captcha_read_aloud(page, strict_captcha):
    page.goto("/ticket/nuevo/")
    fill_ticket_form(page, captcha="")
    listen = page.get_by_role("link", name="Escuchar el código en voz alta")
    expect(listen).to_be_visible()

    # The recording plays: a real WAV of some length, from this origin.
    wav = page.request.get(listen.get_attribute("href"))
    assert wav.status == 200 and wav.headers["content-type"] == "audio/wav"
    assert wav.body()[:4] == b"RIFF" and len(wav.body()) > 10_000
    # Playing it keeps the form where it is (no navigation away from what was typed).
    listen.click()
    # play() settles only once the recording has loaded, and a failure would then send the
    # page to the recording: wait until it really plays, so that the form is not left
    # while the test types in it, and the check below is made after the fact.
    page.wait_for_function(
        "() => { const p = document.querySelector('.captcha-audio-link').player;"
        " return Boolean(p) && p.currentTime > 0; }"
    )
    expect(page).to_have_url(re.compile(r"/ticket/nuevo/$"))

    # A wrong answer is refused; the new challenge's answer (what the audio says) is accepted.
    page.get_by_label(re.compile("^SPAM Prevención")).fill("11111")
    page.get_by_role("button", name="Enviar ticket").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert not Ticket.objects.exists()
    key = page.locator("#id_captcha_0").input_value()
    answer = CaptchaStore.objects.get(hashkey=key).response
    assert page.request.get(f"/codigo/audio/{key}.wav").body()[:4] == b"RIFF"
    page.get_by_label(re.compile("^SPAM Prevención")).fill(answer)
    page.get_by_role("button", name="Enviar ticket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ticket ha sido enviado")
    assert Ticket.objects.count() == 1
    # One use: the challenge and its recording are gone.
    assert page.request.get(f"/codigo/audio/{key}.wav").status == 410


def test_the_browser_lists_its_tickets_and_forgets_them_on_request(page, browser, live_server):
    first, second = make_ticket(), make_ticket(message="Error al subir la rendición")
    for t in (first, second):
        page.goto("/ticket/ver/")
        page.get_by_label(re.compile("^ID de seguimiento")).fill(t.tracking_id)
        page.get_by_role("button", name="Ver ticket").click()
        expect(page).to_have_url(re.compile(re.escape(t.get_absolute_url()) + "$"))
    second.mark_resolved()

    page.goto("/ticket/ver/")
    mine = page.get_by_role("list").filter(has=page.locator(".tracking-id"))
    expect(mine.get_by_role("listitem")).to_have_count(2)
    expect(mine.get_by_role("listitem").first).to_contain_text("Resuelto")
    expect(mine.get_by_role("listitem").last).to_contain_text("Nuevo")
    mine.get_by_role("link", name=first.tracking_id).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(first.tracking_id)

    # Another browser (another person) sees no list.
    other = new_context(browser, live_server)
    p2 = other.new_page()
    p2.goto("/ticket/ver/")
    expect(p2.locator(".ticket-list")).to_have_count(0)
    other.close()

    page.goto("/ticket/ver/")
    page.get_by_role("button", name="Olvidar estos tickets en este computador").click()
    expect(page.get_by_role("status")).to_contain_text("ya no recuerda sus tickets")
    expect(page.locator(".ticket-list")).to_have_count(0)
    assert Ticket.objects.count() == 2


def test_a_long_paste_is_never_cut_and_the_server_says_what_to_do(page):
    page.goto("/ticket/nuevo/")
    fill_ticket_form(page)
    message = page.get_by_label(re.compile("^Mensaje"))
    expect(message).not_to_have_attribute("maxlength", re.compile(".*"))
    counter = page.locator("#id_message_count")
    expect(counter).to_contain_text("Quedan")
    text = "Pegado desde el informe. " * 802  # 20,050 characters
    message.fill(text)
    assert len(message.input_value()) == len(text)
    expect(counter).to_have_text("Sobran 50 caracteres: acorte el texto antes de enviarlo.")
    screenshot(page, "submit-over-limit")

    page.get_by_role("button", name="Enviar ticket").click()
    expect(page.locator("#error-summary")).to_contain_text("acórtelo en")
    assert page.get_by_label(re.compile("^Mensaje")).input_value() == text
    assert not Ticket.objects.exists()

    page.get_by_label(re.compile("^Mensaje")).fill(text[:19_000])
    page.get_by_label(re.compile("^SPAM Prevención")).fill("PASSED")
    page.get_by_role("button", name="Enviar ticket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ticket ha sido enviado")
    assert Ticket.objects.get().message == text[:19_000].strip()


def test_switching_language_keeps_what_was_typed(page):
    page.goto("/ticket/nuevo/")
    page.locator("#id_name").fill("Alicia Rojas")
    page.locator("#id_email").fill("alicia@desarrollosocial.gob.cl")
    page.locator("#id_region").select_option(label="Arica y Parinacota")
    page.locator("#id_message").fill("No puedo ingresar la rendición.")
    page.get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Español")).to_be_visible()
    expect(page.locator("#id_name")).to_have_value("Alicia Rojas")
    expect(page.locator("#id_email")).to_have_value("alicia@desarrollosocial.gob.cl")
    expect(page.locator("#id_region option:checked")).to_have_text("Arica y Parinacota")
    expect(page.locator("#id_message")).to_have_value("No puedo ingresar la rendición.")
    expect(page.locator("#id_captcha_1")).to_have_value("")

    # Put back once: a later reload is the empty form it would be anyway.
    page.reload()
    expect(page.locator("#id_name")).to_have_value("")
