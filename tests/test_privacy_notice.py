"""The privacy notice (Ley 21.719: transparency at collection), seeded by migration 0004_privacy."""

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from tickets.models import PrivacyNotice

NOTICE = reverse("tickets:privacy_notice")


def form_html(html, field):
    """The <form> that holds the field named ``field``, as text."""
    forms = [f for f in re.findall(r"<form.*?</form>", html, re.DOTALL) if f'name="{field}"' in f]
    assert len(forms) == 1, f"no single form with a field {field}"
    return forms[0]


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.org", "clave-de-prueba-123")


def edit_url():
    return reverse("admin:tickets_privacynotice_change", args=[PrivacyNotice.current().pk])


def test_the_page_shows_the_seeded_notice(client, db, settings):
    settings.PRIVACY_CONTACT_EMAIL = "datospersonales@desarrollosocial.gob.cl"
    r = client.get(NOTICE)
    assert r.status_code == 200
    html = r.content.decode()
    assert "<h1>Aviso de privacidad</h1>" in html
    for words in [
        "Ministerio de Desarrollo Social y Familia, División de Promoción y Protección Social, "
        "Unidad de Gestión de Proyectos Informáticos y Procesos",
        "Ley N° 21.719",
        "la dirección IP y la fecha y hora de envío",
        "acceso, rectificación, supresión, oposición, portabilidad y bloqueo",
        "datospersonales@desarrollosocial.gob.cl",
        "Agencia de Protección de Datos Personales",
        "hasta 24 meses después",
    ]:
        assert words in html
    assert "{" not in html.split("<h1>")[1].split("</main>")[0], "a placeholder was left unreplaced"


def test_the_page_states_the_configured_retention_not_a_fixed_one(client, db, settings):
    settings.RETENTION_MONTHS = 36
    settings.SENT_EMAIL_RETENTION_DAYS = 30
    html = client.get(NOTICE).content.decode()
    assert "hasta 36 meses después" in html and "después de 30 días" in html
    assert "24 meses" not in html and "90 días" not in html


def test_the_contact_address_defaults_to_the_help_desks(db):
    from django.conf import settings

    assert settings.PRIVACY_CONTACT_EMAIL == settings.HELPDESK_NOTIFY_EMAIL


def test_the_paragraphs_are_rendered_and_html_in_the_text_is_escaped(client, db):
    PrivacyNotice.objects.update(body="Primer párrafo.\n\nSegundo <b>párrafo</b>.")
    html = client.get(NOTICE).content.decode()
    assert "<p>Primer párrafo.</p>" in html
    assert "<p>Segundo &lt;b&gt;párrafo&lt;/b&gt;.</p>" in html


def test_without_a_notice_the_page_is_not_found(client, db):
    PrivacyNotice.objects.all().delete()
    assert client.get(NOTICE).status_code == 404


# --- reachable from every form ----------------------------------------------------------------
def test_the_submission_form_links_to_the_notice(client, db):
    html = client.get(reverse("tickets:submit")).content.decode()
    assert NOTICE in form_html(html, "project_number")


def test_the_reply_form_links_to_the_notice(client, ticket):
    html = client.get(ticket.get_absolute_url()).content.decode()
    assert NOTICE in form_html(html, "message")


def test_the_look_up_form_does_not_link_it_but_the_footer_does(client, db):
    html = client.get(reverse("tickets:lookup")).content.decode()
    assert NOTICE not in form_html(html, "tracking_id")
    footer = html.split('<footer class="site-footer">')[1]
    assert f'<a href="{NOTICE}">Aviso de privacidad</a>' in footer


def test_every_public_page_links_to_it_in_the_footer(client, db):
    for url in [reverse("tickets:home"), reverse("tickets:upload_limits"), NOTICE]:
        assert NOTICE in client.get(url).content.decode().split('<footer class="site-footer">')[1]


# --- edited by supervisors ---------------------------------------------------------------------
def test_a_supervisor_edits_it_and_the_public_page_shows_the_new_text(client, supervisor):
    client.force_login(supervisor)
    r = client.post(
        edit_url(),
        {
            "title": "Aviso de privacidad",
            "body": "Texto nuevo del aviso.\n\nEscriba a {correo_privacidad}.",
        },
    )
    assert r.status_code == 302
    notice = PrivacyNotice.current()
    assert notice.updated_by == supervisor
    client.logout()
    html = client.get(NOTICE).content.decode()
    assert "Texto nuevo del aviso." in html
    assert "Agencia de Protección de Datos Personales" not in html


def test_an_agent_can_neither_edit_nor_open_it_in_admin(client, agent):
    before = PrivacyNotice.current().body
    client.force_login(agent)
    assert client.get(edit_url()).status_code == 403
    assert client.post(edit_url(), {"title": "X", "body": "Texto de un agente."}).status_code == 403
    assert PrivacyNotice.current().body == before


@pytest.mark.parametrize("who", ["supervisor", "superuser"])
def test_nobody_adds_a_second_notice_or_deletes_it(client, db, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("admin:tickets_privacynotice_add")).status_code == 403
    url = reverse("admin:tickets_privacynotice_delete", args=[PrivacyNotice.current().pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert PrivacyNotice.objects.count() == 1


def test_a_notice_can_be_added_when_there_is_none(client, supervisor):
    PrivacyNotice.objects.all().delete()
    client.force_login(supervisor)
    r = client.post(
        reverse("admin:tickets_privacynotice_add"), {"title": "Aviso", "body": "Texto."}
    )
    assert r.status_code == 302
    assert PrivacyNotice.objects.count() == 1
