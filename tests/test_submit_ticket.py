import re
import uuid

import pytest
from captcha.models import CaptchaStore
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import make_ticket, pdf, png, submission_data
from tickets.models import Attachment, Category, OutgoingEmail, Priority, Status, Ticket

URL = "/ticket/nuevo/"


def post(client, files=None, **overrides):
    data = submission_data(**overrides)
    if files is not None:
        data["attachments"] = files
    return client.post(URL, data, REMOTE_ADDR=overrides.pop("remote_addr", "192.168.21.120"))


def test_the_form_shows_every_field_of_the_manual(client, db):
    r = client.get(URL)
    html = r.content.decode()
    assert r.status_code == 200
    for label in [
        "Nombre",
        "E-mail",
        "Categoría",
        "Región",
        "Número de proyecto",
        "Mensaje",
        "Adjuntos",
        "SPAM Prevención",
    ]:
        assert label in html
    assert "-- Haz click para seleccionar --" in html
    assert "Claves SIGEC - Cambio de clave" in html
    assert "¿Qué es el número de proyecto?" in html
    assert html.count('type="file" name="attachments"') == 10
    assert "Límite de carga de archivos" in html


def test_the_form_shows_the_ip_it_records(client, db):
    r = client.get(URL, REMOTE_ADDR="192.168.21.139")
    assert "<strong>192.168.21.139</strong> como su dirección IP" in r.content.decode()


def test_a_valid_submission_creates_a_new_low_priority_ticket(client, db):
    r = post(client)
    assert r.status_code == 302 and r["Location"] == "/ticket/enviado/"
    t = Ticket.objects.get()
    assert t.status == Status.NEW
    assert t.priority == Priority.LOW
    assert t.name == "Alicia Rojas"
    assert t.project_number == 29928
    assert t.region.code == "AP"
    assert t.ip_address == "192.168.21.120"
    assert t.created_at is not None


def test_the_confirmation_page_shows_tracking_id_number_and_link(client, db):
    post(client)
    t = Ticket.objects.get()
    r = client.get("/ticket/enviado/")
    html = r.content.decode()
    assert t.tracking_id in html
    assert f"<strong>{t.number}</strong>" in html
    assert f'href="/ticket/{t.tracking_id}/"' in html
    assert "Visualizar su ticket" in html
    assert "correo no deseado" in html


def test_the_confirmation_page_without_a_submission_sends_to_the_form(client, db):
    r = client.get("/ticket/enviado/")
    assert r.status_code == 302 and r["Location"] == URL


def test_a_confirmation_email_is_queued_for_the_requester(client, db):
    post(client)
    t = Ticket.objects.get()
    mail = OutgoingEmail.objects.get(kind="ticket_created")
    assert mail.to == "alicia@desarrollosocial.gob.cl"
    assert t.tracking_id in mail.subject


@pytest.mark.parametrize(
    "typed",
    [
        "29928",
        " 29928 ",
        "http://sigec.mideplan.cl/sigec/view-proyecto.htm?proyecto=29928",
        "https://sigec.mideplan.cl/sigec/view-proyecto.htm?foo=1&proyecto=29928#x",
        "sigec.mideplan.cl/sigec/view-proyecto.htm?PROYECTO=29928",
    ],
)
def test_it_takes_the_project_number_from_a_pasted_sigec_address(client, db, typed):
    assert post(client, project_number=typed).status_code == 302
    assert Ticket.objects.get().project_number == 29928


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "abc",
        "-5",
        "0",
        "12.5",
        "http://sigec.mideplan.cl/sigec/view-proyecto.htm?proyecto=",
        "99999999999",
    ],
)
def test_it_refuses_a_project_number_that_is_not_a_positive_integer(client, db, typed):
    r = post(client, project_number=typed)
    assert r.status_code == 200
    assert not Ticket.objects.exists()
    assert "número de proyecto" in r.content.decode().lower()


@pytest.mark.parametrize(
    "field", ["name", "email", "category", "region", "project_number", "message"]
)
def test_every_required_field_is_required(client, db, field):
    r = post(client, **{field: ""})
    assert r.status_code == 200
    assert not Ticket.objects.exists()
    assert "Este campo es obligatorio." in r.content.decode()


@pytest.mark.parametrize(
    "email", ["no-es-un-correo", "a@b", "alicia@x.cl, otro@x.cl", "alicia@x.cl\r\nBcc: otro@x.cl"]
)
def test_it_refuses_an_invalid_email(client, db, email):
    r = post(client, email=email)
    assert r.status_code == 200
    assert not Ticket.objects.exists()
    assert "Introduzca una dirección de correo electrónico válida." in r.content.decode()


def test_the_email_is_stored_lower_case(client, db):
    post(client, email="Alicia.Rojas@DesarrolloSocial.gob.cl")
    assert Ticket.objects.get().email == "alicia.rojas@desarrollosocial.gob.cl"


def test_line_breaks_in_the_name_are_flattened(client, db):
    post(client, name="Alicia\r\nBcc: x@y.cl")
    assert Ticket.objects.get().name == "Alicia Bcc: x@y.cl"


def test_an_error_keeps_every_typed_value_and_asks_for_files_again(client, db):
    r = post(client, files=[pdf()], project_number="abc", message="Mi mensaje <b>importante</b>")
    html = r.content.decode()
    assert r.status_code == 200
    assert 'value="Alicia Rojas"' in html
    assert 'value="alicia@desarrollosocial.gob.cl"' in html
    assert 'value="abc"' in html
    assert "Mi mensaje &lt;b&gt;importante&lt;/b&gt;" in html
    assert "vuelva a adjuntarlos" in html
    assert 'href="#id_project_number"' in html  # the error summary links to the field


def test_the_captcha_is_required(client, db, strict_captcha):
    r = post(client, captcha_1="")
    assert r.status_code == 200
    assert not Ticket.objects.exists()


def test_a_wrong_captcha_answer_is_refused(client, db, strict_captcha):
    r = post(client, captcha_0="nonexistent", captcha_1="12345")
    assert r.status_code == 200
    assert not Ticket.objects.exists()
    assert "El código no coincide con la imagen" in r.content.decode()


def test_a_solved_captcha_is_accepted_once(client, db, strict_captcha):
    from captcha.models import CaptchaStore

    key = CaptchaStore.generate_key()
    answer = CaptchaStore.objects.get(hashkey=key).response
    assert post(client, captcha_0=key, captcha_1=answer).status_code == 302
    r = post(client, captcha_0=key, captcha_1=answer, submission_token=str(uuid.uuid4()))
    assert r.status_code == 200
    assert Ticket.objects.count() == 1


def test_attachments_are_stored_with_their_display_name_and_hash(client, db):
    assert post(client, files=[pdf("Informe final.pdf"), png()]).status_code == 302
    t = Ticket.objects.get()
    names = sorted(t.attachments.values_list("original_name", flat=True))
    assert names == ["Informe final.pdf", "pantalla.png"]
    a = t.attachments.get(original_name="pantalla.png")
    assert a.content_type == "image/png"
    assert len(a.sha256) == 64
    assert "pantalla" not in a.file.name


def test_ten_files_are_accepted(client, db):
    assert post(client, files=[pdf(f"a{i}.pdf") for i in range(10)]).status_code == 302
    assert Attachment.objects.count() == 10


def test_eleven_files_are_refused(client, db):
    r = post(client, files=[pdf(f"a{i}.pdf") for i in range(11)])
    assert r.status_code == 200
    assert not Ticket.objects.exists()
    assert "como máximo 10 archivos" in r.content.decode()


def test_an_oversized_file_is_refused(client, db, settings):
    settings.TICKET_MAX_FILE_SIZE = 1024
    r = post(client, files=[pdf(content=b"%PDF-1.4\n" + b"0" * 1100)])
    assert r.status_code == 200
    assert not Ticket.objects.exists()
    assert "pesa más de" in r.content.decode()


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("programa.exe", b"MZ\x90\x00" + b"\x00" * 100, "no tiene un tipo permitido"),
        ("pagina.html", b"<html></html>", "no tiene un tipo permitido"),
        ("factura.pdf", b"MZ\x90\x00" + b"\x00" * 100, "no corresponde a su extensión .pdf"),
        (
            "foto.png",
            b"<html><script>alert(1)</script></html>",
            "no corresponde a su extensión .png",
        ),
    ],
)
def test_a_disallowed_or_disguised_file_is_refused(client, db, name, content, message):
    r = post(client, files=[SimpleUploadedFile(name, content)])
    assert r.status_code == 200
    assert not Ticket.objects.exists()
    assert message in r.content.decode()


def test_a_double_submission_creates_one_ticket(client, db):
    token = str(uuid.uuid4())
    first = post(client, submission_token=token)
    second = post(client, submission_token=token)
    assert first.status_code == second.status_code == 302
    assert Ticket.objects.count() == 1
    assert OutgoingEmail.objects.filter(kind="ticket_created").count() == 1


def test_two_different_forms_create_two_tickets(client, db):
    post(client, submission_token=str(uuid.uuid4()))
    post(client, submission_token=str(uuid.uuid4()))
    assert Ticket.objects.count() == 2


def test_consecutive_submissions_get_consecutive_numbers(db):
    first, second = make_ticket(), make_ticket()
    assert second.number == first.number + 1


def test_a_submission_refused_after_taking_its_number_gives_the_number_back(db):
    # Ticket.open takes the number just before its writes; a file refused there rolls
    # the whole submission back, the counter's increment with it: no gap.
    first = make_ticket()
    with pytest.raises(ValidationError):
        make_ticket(files=[SimpleUploadedFile("programa.exe", b"MZ\x90\x00")])
    assert Ticket.objects.count() == 1
    assert make_ticket().number == first.number + 1


def test_it_ignores_a_forged_x_forwarded_for(client, db):
    client.post(URL, submission_data(), REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert Ticket.objects.get().ip_address == "10.1.2.3"


def test_behind_one_trusted_proxy_it_takes_the_address_the_proxy_saw(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client.post(
        URL, submission_data(), REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 200.1.2.3"
    )
    assert Ticket.objects.get().ip_address == "200.1.2.3"


def test_an_inactive_category_is_not_offered(client, db):
    from tickets.models import Category

    Category.objects.filter(name="Reportes").update(is_active=False)
    html = client.get(URL).content.decode()
    assert "Reportes" not in html
    assert "Error de sistema" in html


def test_a_request_body_over_the_limit_is_refused_before_reading(client, db, settings):
    settings.MAX_REQUEST_SIZE = 1000
    r = post(client, files=[pdf(content=b"%PDF-1.4\n" + b"0" * 2000)])
    assert r.status_code == 413
    assert "demasiado grande" in r.content.decode()
    assert not Ticket.objects.exists()


# --- the category and region lists (tickets/reference_choices.py) ---------------------------
def test_the_form_reads_the_category_and_region_lists_once_not_on_every_page(
    client, db, django_assert_max_num_queries
):
    client.get("/ticket/nuevo/")
    # The captcha is all that is read again; before, each select read its table twice.
    with django_assert_max_num_queries(1) as again:
        html = client.get("/ticket/nuevo/").content.decode()
    assert not any("tickets_category" in q["sql"] for q in again.captured_queries)
    assert "Error de sistema" in html and "Arica y Parinacota" in html


def test_a_category_an_administrator_adds_or_retires_shows_on_the_next_form(client, db, category):
    client.get("/ticket/nuevo/")
    Category.objects.create(name="Firma electrónica", position=1)
    category.is_active = False
    category.save()
    html = client.get("/ticket/nuevo/").content.decode()
    assert "Firma electrónica" in html
    assert ">Error de sistema<" not in html


def test_a_retired_category_is_refused_even_from_a_stale_form(client, db, category):
    client.get("/ticket/nuevo/")
    category.is_active = False
    category.save()
    r = client.post("/ticket/nuevo/", submission_data(category=category.pk))
    assert r.status_code == 200 and not Ticket.objects.exists()


# --- the blank form kept rendered (tickets/views/blank_form.py) -----------------------------
def _values(html):
    def one(pattern):
        found = re.findall(pattern, html)
        assert found, pattern
        return found

    return {
        "csrf": one(r'name="csrfmiddlewaretoken" value="([^"]+)"'),
        "captcha": one(r'name="captcha_0" value="([^"]+)"'),
        "image": one(r'/captcha/image/([^/"]+)/'),
        "submission": one(r'name="submission_token" value="([^"]+)"'),
    }


def test_each_visitor_gets_their_own_captcha_token_and_address_in_the_kept_form(
    client, db, settings
):
    settings.CAPTCHA_GET_FROM_POOL = False
    first = client.get("/ticket/nuevo/", REMOTE_ADDR="203.0.113.7").content.decode()
    other = Client()
    second = other.get("/ticket/nuevo/", REMOTE_ADDR="198.51.100.9").content.decode()
    a, b = _values(first), _values(second)
    assert a["captcha"][0] != b["captcha"][0] and a["image"] == a["captcha"]
    assert b["image"] == b["captcha"]
    assert a["submission"] != b["submission"] and a["csrf"] != b["csrf"]
    assert "203.0.113.7" in first and "198.51.100.9" in second and "203.0.113.7" not in second
    assert "blankform" not in second and "0000b1a4f0a4" not in second
    # Everything but those values is the same page.
    strip = re.compile(r'value="[^"]*"|/captcha/(image|audio)/[^"]*|codigo/audio/[^"]*|\b[\d.]+\b')
    assert strip.sub("", first) == strip.sub("", second)


def test_a_form_from_the_kept_page_sends_a_ticket(client, db, strict_captcha):
    html = client.get("/ticket/nuevo/").content.decode()
    client.get("/ticket/nuevo/")  # served from the kept page
    key = _values(html)["captcha"][0]
    answer = CaptchaStore.objects.get(hashkey=key).response
    token = _values(html)["submission"][0]
    r = client.post(
        "/ticket/nuevo/",
        submission_data(captcha_0=key, captcha_1=answer, submission_token=token),
    )
    assert r.status_code == 302 and Ticket.objects.get().submission_token == uuid.UUID(token)


def test_the_kept_form_follows_the_language(client, db):
    client.get("/ticket/nuevo/")
    client.cookies["django_language"] = "en"
    html = client.get("/ticket/nuevo/").content.decode()
    assert 'lang="en"' in html and "Submit a ticket" in html


def test_a_category_retired_after_the_form_was_loaded_is_refused_and_the_rest_kept(
    client, db, category
):
    client.get(URL)  # the lists are now kept
    category.is_active = False
    category.save()
    r = post(client, category=str(category.pk), name="Alicia Rojas Soto")
    html = r.content.decode()
    assert r.status_code == 200 and not Ticket.objects.exists()
    assert "Escoja una opción válida" in html
    assert 'value="Alicia Rojas Soto"' in html


@pytest.mark.parametrize("typed", ["abc", "999999", "1.5", "-1"])
def test_a_category_or_region_that_is_not_one_of_the_list_is_refused(client, db, typed):
    for field in ("category", "region"):
        r = post(client, **{field: typed})
        assert "Escoja una opción válida" in r.content.decode()
    assert not Ticket.objects.exists()


def test_a_submission_reads_neither_the_category_nor_the_region_table(
    client, db, django_assert_max_num_queries
):
    post(client)
    data = submission_data(submission_token=str(uuid.uuid4()))
    with django_assert_max_num_queries(10) as second:
        assert client.post(URL, data).status_code == 302
    read = " ".join(q["sql"] for q in second.captured_queries)
    assert "tickets_category" not in read and "tickets_region" not in read
    assert "tickets_nonworkingday" not in read and "auth_user" not in read
    assert Ticket.objects.count() == 2
