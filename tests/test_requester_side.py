"""The requester's side, finished (issue 20): nothing typed is cut, their tickets at hand,
the captcha read aloud, the privacy notice's headings."""

import re
import shutil

import pytest
from captcha.models import CaptchaStore
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_ticket, submission_data
from tickets.captcha import spoken_text
from tickets.models import PrivacyNotice, Ticket
from tickets.views.captcha_audio import speech_command

SUBMIT = reverse("tickets:submit")
LOOKUP = reverse("tickets:lookup")


# --- nothing silently lost ----------------------------------------------------------
def test_the_message_box_shows_its_limit_and_has_no_maxlength_to_cut_a_paste(client, db):
    html = client.get(SUBMIT).content.decode()
    assert 'data-maxlength="20000"' in html
    assert "Hasta 20.000 caracteres." in html
    assert ' maxlength="20000"' not in html


def test_an_over_long_message_is_refused_and_kept_whole(client, db):
    text = "Detalle del error." * 1161 + "xx"  # 20,900 characters
    response = client.post(SUBMIT, submission_data(message=text))
    html = response.content.decode()
    assert response.status_code == 200 and not Ticket.objects.exists()
    assert "El texto tiene 20.900 caracteres y el máximo es 20.000: acórtelo en 900." in html
    assert text.strip() in html


def test_a_message_of_exactly_the_limit_is_accepted(client, db):
    response = client.post(SUBMIT, submission_data(message="x" * 20000))
    assert response.status_code == 302
    assert len(Ticket.objects.get().message) == 20000


def test_an_over_long_reply_is_refused_and_kept_whole(client, ticket):
    text = "y" * 20001
    response = client.post(reverse("tickets:reply", args=[ticket.tracking_id]), {"message": text})
    assert response.status_code == 400
    assert "acórtelo en 1." in response.content.decode()
    assert text in response.content.decode()
    assert ticket.replies.count() == 0


# --- their tickets at hand -----------------------------------------------------------
def opened(client, *tickets):
    for t in tickets:
        client.post(LOOKUP, {"tracking_id": t.tracking_id})


def test_the_lookup_page_lists_the_tickets_this_browser_opened(
    client, db, django_assert_max_num_queries
):
    first, second = make_ticket(), make_ticket(message="Otra consulta sobre la rendición")
    opened(client, first, second)
    with django_assert_max_num_queries(3) as two:
        html = client.get(LOOKUP).content.decode()
    # Counted now: the next request's request_started clears the connection's query log.
    queries = len(two.captured_queries)
    assert "Sus tickets en este computador" in html
    for t in (first, second):
        assert f'href="{t.get_absolute_url()}"' in html
    assert ">Nuevo<" in html
    assert html.index(second.tracking_id) < html.index(first.tracking_id)  # latest update first
    opened(client, *(make_ticket() for _ in range(4)))
    with django_assert_max_num_queries(queries):
        client.get(LOOKUP)


def test_another_browser_sees_no_list(client, db):
    make_ticket()
    html = client.get(LOOKUP).content.decode()
    assert "Sus tickets en este computador" not in html
    assert "Olvidar estos tickets" not in html


def test_forgetting_empties_the_list_and_keeps_the_tickets(client, db):
    t = make_ticket()
    opened(client, t)
    response = client.post(reverse("tickets:forget"))
    assert response.status_code == 302 and response["Location"] == LOOKUP
    html = client.get(LOOKUP).content.decode()
    assert "este computador ya no recuerda sus tickets" in html
    assert t.tracking_id not in html
    assert Ticket.objects.filter(pk=t.pk).exists()


def test_forgetting_needs_a_post(client, db):
    assert client.get(reverse("tickets:forget")).status_code == 405


def test_forgetting_closes_the_door_when_the_email_is_required(client, db, settings):
    settings.LOOKUP_REQUIRES_EMAIL = True
    t = make_ticket()
    client.post(LOOKUP, {"tracking_id": t.tracking_id, "email": t.email})
    assert client.get(t.get_absolute_url()).status_code == 200
    client.post(reverse("tickets:forget"))
    assert client.get(t.get_absolute_url()).status_code == 302  # asks for the address again


# --- the captcha read aloud -----------------------------------------------------------
def audio_url(key):
    return reverse("tickets:captcha_audio", args=[key])


def shown_challenge(client) -> CaptchaStore:
    """The challenge the form shows (read from the page: a pool may hold many)."""
    html = client.get(SUBMIT).content.decode()
    key = re.search(r'name="captcha_0" value="(\w+)"', html).group(1)
    return CaptchaStore.objects.get(hashkey=key)


def test_the_form_offers_the_captcha_read_aloud(client, db):
    html = client.get(SUBMIT).content.decode()
    key = re.search(r'name="captcha_0" value="(\w+)"', html).group(1)
    assert f'href="{audio_url(key)}"' in html
    assert "Escuchar el código en voz alta" in html


def test_without_a_speech_synthesiser_no_audio_is_offered(client, db, settings):
    settings.CAPTCHA_FLITE_PATH = None
    from captcha.conf import settings as captcha_settings  # noqa: PLC0415  # copied at import

    captcha_settings.CAPTCHA_FLITE_PATH, before = None, captcha_settings.CAPTCHA_FLITE_PATH
    try:
        html = client.get(SUBMIT).content.decode()
    finally:
        captcha_settings.CAPTCHA_FLITE_PATH = before
    assert "Escuchar el código" not in html
    assert client.get(audio_url("abc")).status_code == 404


def test_the_audio_is_a_wav_of_the_challenge(client, db):
    key = shown_challenge(client).hashkey
    response = client.get(audio_url(key))
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert response.content[:4] == b"RIFF" and response.content[8:12] == b"WAVE"
    assert len(response.content) > 10_000
    assert "no-store" in response["Cache-Control"]


def test_the_code_is_read_in_latin_american_spanish_on_the_spanish_page():
    es = speech_command("/usr/bin/espeak-ng", "2. 5", "/tmp/c.wav", "es")
    assert es[es.index("-v") + 1] == "es-419"
    en = speech_command("/usr/bin/espeak-ng", "2. 5", "/tmp/c.wav", "en")
    assert en[en.index("-v") + 1] == "en"
    # flite has one voice, English, whatever the page.
    assert "-v" not in speech_command("/usr/bin/flite", "2. 5", "/tmp/c.wav", "es")


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng is not installed")
def test_the_spanish_and_english_pages_read_the_code_in_different_voices(client, db, settings):
    settings.CAPTCHA_FLITE_PATH = shutil.which("espeak-ng")
    store = shown_challenge(client)
    spanish = client.get(audio_url(store.hashkey)).content
    english = client.get(audio_url(store.hashkey), headers={"accept-language": "en"}).content
    assert spanish[:4] == english[:4] == b"RIFF"
    assert spanish != english


def test_an_unknown_or_expired_challenge_has_no_audio(client, db):
    store = shown_challenge(client)
    assert client.get(audio_url("0" * 40)).status_code == 410
    CaptchaStore.objects.filter(pk=store.pk).update(expiration=timezone.now())
    assert client.get(audio_url(store.hashkey)).status_code == 410


def test_a_used_challenge_has_no_audio_any_more(client, db, strict_captcha):
    store = shown_challenge(client)
    data = submission_data(captcha_0=store.hashkey, captcha_1=store.response)
    assert client.post(SUBMIT, data).status_code == 302
    assert client.get(audio_url(store.hashkey)).status_code == 410


def test_the_spoken_text_says_each_digit_apart_twice():
    assert spoken_text("58234") == "5. 8. 2. 3. 4. . 5. 8. 2. 3. 4."


# --- the privacy notice -------------------------------------------------------------
def test_the_privacy_notice_headings_are_headings(client, db):
    html = client.get(reverse("tickets:privacy_notice")).content.decode()
    assert "<h2>Sus derechos</h2>" in html
    assert "<h2>Responsable del tratamiento</h2>" in html
    assert "<p>Este aviso explica" in html
    assert "<h2>Este aviso" not in html


def test_a_notice_written_by_a_supervisor_is_escaped_and_may_mark_headings(client, db):
    PrivacyNotice.objects.update(
        body="## Contacto <b>x</b>\n\nEscriba a <script>alert(1)</script>.\nGracias."
    )
    html = client.get(reverse("tickets:privacy_notice")).content.decode()
    assert "<h2>Contacto &lt;b&gt;x&lt;/b&gt;</h2>" in html
    assert "<p>Escriba a &lt;script&gt;alert(1)&lt;/script&gt;.<br>Gracias.</p>" in html


@pytest.mark.parametrize("ending", [".", ":", ";", ","])
def test_a_short_sentence_stays_a_paragraph(client, db, ending):
    PrivacyNotice.objects.update(body=f"Sin más{ending}")
    html = client.get(reverse("tickets:privacy_notice")).content.decode()
    assert f"<p>Sin más{ending}</p>" in html
