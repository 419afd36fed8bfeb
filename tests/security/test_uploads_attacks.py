"""Attacks through attachments: names, types, sizes, bodies, downloads."""

import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from tests.conftest import PDF, make_ticket, pdf, png, submission_data
from tests.security.helpers import SUBMIT, submit
from tickets.models import Attachment, Reply, Ticket
from tickets.uploadhandlers import LimitedUploadHandler, OversizedUpload


def stored_files(root):
    return [p for p in Path(root).rglob("*") if p.is_file()]


# --- names -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "../../../../etc/passwd.pdf",
        "..\\..\\Windows\\System32\\informe.pdf",
        "/var/www/informe.pdf",
        "C:\\Users\\ana\\informe.pdf",
        "....//....//informe.pdf",
    ],
)
def test_a_path_in_a_file_name_never_reaches_the_disk(client, db, media_root, name):
    assert submit(client, files=[pdf(name)]).status_code == 302
    a = Attachment.objects.get()
    assert (
        "/" not in a.original_name
        and "\\" not in a.original_name
        and not a.original_name.startswith(".")
    )
    assert a.original_name.endswith("informe.pdf") or a.original_name == "passwd.pdf"
    # Stored under a random name inside MEDIA_ROOT, and nowhere else.
    (only,) = stored_files(media_root)
    assert only.resolve().is_relative_to(Path(media_root).resolve())
    assert only.name not in name and only.suffix == ".pdf"


@pytest.mark.parametrize(
    "name,shown",
    [
        ("inf\x00orme.pdf", "informe.pdf"),
        ("infor\u200bme\u2066.pdf", "informe.pdf"),
        ("\ttabulado\t.pdf", "tabulado.pdf"),
        ("\x1b[31mrojo\x7f.pdf", "[31mrojo.pdf"),
    ],
)
def test_control_and_format_characters_are_stripped_from_a_file_name(client, db, name, shown):
    assert submit(client, files=[pdf(name)]).status_code == 302
    assert Attachment.objects.get().original_name == shown


def test_a_line_break_in_a_file_name_cannot_inject_a_header(client, db):
    # Sent raw, CR/LF ends the part's header: what is left is a name without an
    # allowed extension, refused and shown escaped; no other header is made.
    r = submit(client, files=[pdf('Informe"\r\nContent-Type: text/html\r\n\r\n<script>.pdf')])
    html = r.content.decode()
    assert r.status_code == 200
    assert "no tiene un tipo permitido" in html
    assert "<script>" not in html.split("</header>", 1)[1]
    assert not Ticket.objects.exists()


def test_a_right_to_left_override_cannot_disguise_an_executable(client, db):
    # Shown as "facturaexe.pdf" in a right-to-left-aware viewer; really "factura\u202efdp.exe".
    r = submit(
        client, files=[SimpleUploadedFile("factura\u202efdp.exe", b"MZ\x90\x00" + b"\0" * 64)]
    )
    assert r.status_code == 200
    assert "no tiene un tipo permitido" in r.content.decode()
    assert not Ticket.objects.exists()


def test_an_ordinary_file_name_is_kept_as_typed(client, db):
    assert submit(client, files=[pdf("Rendición final (v2).pdf")]).status_code == 302
    assert Attachment.objects.get().original_name == "Rendición final (v2).pdf"


# --- types ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,content,message",
    [
        ("factura.pdf", b"MZ\x90\x00\x03" + b"\0" * 200, "no corresponde a su extensión .pdf"),
        ("factura.pdf", b"\x7fELF\x02\x01\x01" + b"\0" * 200, "no corresponde a su extensión .pdf"),
        ("script.txt", b"#!/bin/sh\nrm -rf /\n", "no corresponde a su extensión .txt"),
        (
            "foto.png",
            b"<html><script>alert(1)</script></html>",
            "no corresponde a su extensión .png",
        ),
        (
            "dibujo.png",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "no corresponde a su extensión .png",
        ),
        (
            "nota.txt",
            b"\xef\xbb\xbf  <!DOCTYPE html><script>alert(1)</script>",
            "no corresponde a su extensión .txt",
        ),
        ("dibujo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "no tiene un tipo permitido"),
        ("pagina.html", b"<p>hola</p>", "no tiene un tipo permitido"),
        ("programa.exe", b"MZ" + b"\0" * 64, "no tiene un tipo permitido"),
        ("informe.pdf.exe", b"MZ" + b"\0" * 64, "no tiene un tipo permitido"),
    ],
)
def test_an_executable_or_markup_in_disguise_is_refused(
    client, db, media_root, name, content, message
):
    r = submit(client, files=[SimpleUploadedFile(name, content)], message="Mi mensaje se conserva")
    html = r.content.decode()
    assert r.status_code == 200
    assert message in html
    assert "Mi mensaje se conserva</textarea>" in html
    assert not Ticket.objects.exists()
    assert stored_files(media_root) == []


def test_the_real_types_are_accepted(client, db):
    assert (
        submit(
            client, files=[pdf(), png(), SimpleUploadedFile("datos.csv", b"region;monto\nAP;100\n")]
        ).status_code
        == 302
    )
    assert Attachment.objects.count() == 3


# --- counts and sizes --------------------------------------------------------------------------
def test_eleven_files_are_refused_and_ten_accepted(client, db):
    r = submit(client, files=[pdf(f"a{i}.pdf") for i in range(11)])
    assert r.status_code == 200 and "como máximo 10 archivos" in r.content.decode()
    assert not Ticket.objects.exists()
    assert submit(client, files=[pdf(f"a{i}.pdf") for i in range(10)]).status_code == 302
    assert Attachment.objects.count() == 10


def sized_pdf(size, name="grande.pdf"):
    head = b"%PDF-1.4\n"
    return SimpleUploadedFile(
        name, head + b"0" * (size - len(head)), content_type="application/pdf"
    )


def test_a_file_one_byte_over_the_limit_is_refused_and_the_form_kept(
    client, db, settings, media_root
):
    settings.TICKET_MAX_FILE_SIZE = 100 * 1024
    r = submit(client, files=[sized_pdf(100 * 1024 + 1)], name="Ana Pérez", message="Texto largo")
    html = r.content.decode()
    assert r.status_code == 200
    assert "El archivo &quot;grande.pdf&quot; pesa más de 100 KB, el máximo permitido." in html
    assert 'value="Ana Pérez"' in html and "Texto largo</textarea>" in html
    assert not Ticket.objects.exists()
    assert stored_files(media_root) == []


def test_a_file_exactly_at_the_limit_is_accepted(client, db, settings):
    settings.TICKET_MAX_FILE_SIZE = 100 * 1024
    assert submit(client, files=[sized_pdf(100 * 1024)]).status_code == 302
    assert Attachment.objects.get().size == 100 * 1024


def multipart_request(files, **extra):
    body = encode_multipart(BOUNDARY, {"name": "Ana", "attachments": files})
    return RequestFactory().generic("POST", SUBMIT, body, content_type=MULTIPART_CONTENT, **extra)


def test_an_oversized_file_stops_reaching_the_disk_while_it_streams(settings):
    settings.TICKET_MAX_FILE_SIZE = 64 * 1024
    request = multipart_request([sized_pdf(1024 * 1024), pdf("chico.pdf")])
    (big, small) = request.FILES.getlist("attachments")
    # The big one is a stand-in: its real size for the message, no content kept.
    assert isinstance(big, OversizedUpload) and big.size == 1024 * 1024 and big.read() == b""
    temporary = request.upload_handlers[1]
    assert type(request.upload_handlers[0]) is LimitedUploadHandler
    # The small one went to a temporary file as usual.
    assert small.read() == PDF and small.size == len(PDF)
    assert os.path.exists(small.temporary_file_path())
    assert temporary.file is small


def test_the_upload_handler_passes_files_within_the_limit_untouched(settings):
    settings.TICKET_MAX_FILE_SIZE = 2 * 1024 * 1024
    request = multipart_request([sized_pdf(1024 * 1024)])
    (f,) = request.FILES.getlist("attachments")
    assert not isinstance(f, OversizedUpload)
    assert f.size == 1024 * 1024 and f.read(9) == b"%PDF-1.4\n"


def test_a_body_far_over_the_limit_is_refused_by_its_content_length(
    client, db, settings, media_root
):
    settings.MAX_REQUEST_SIZE = 1024 * 1024
    r = submit(client, files=[sized_pdf(5 * 1024 * 1024)])
    assert r.status_code == 413
    assert "demasiado grande" in r.content.decode()
    assert not Ticket.objects.exists() and stored_files(media_root) == []


def test_a_body_under_the_request_limit_is_read(client, db, settings):
    settings.MAX_REQUEST_SIZE = 1024 * 1024
    assert submit(client, files=[sized_pdf(512 * 1024)]).status_code == 302


def test_without_the_middleware_the_upload_handler_still_refuses_a_huge_body(
    client, db, settings, media_root
):
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "tickets.middleware.security_headers"
    ]
    settings.MAX_REQUEST_SIZE = 1024 * 1024
    settings.TICKET_MAX_FILE_SIZE = 10 * 1024 * 1024
    r = submit(client, files=[sized_pdf(3 * 1024 * 1024)])
    assert r.status_code == 400
    assert "Solicitud incorrecta" in r.content.decode()
    assert not Ticket.objects.exists() and stored_files(media_root) == []
    # …and lets an ordinary one through.
    assert submit(client, files=[sized_pdf(512 * 1024)]).status_code == 302


def chunked_post(client, data, **extra):
    body = encode_multipart(BOUNDARY, data)
    return client.generic(
        "POST", SUBMIT, body, content_type=MULTIPART_CONTENT, REMOTE_ADDR="192.168.21.120", **extra
    )


def test_a_chunked_body_without_content_length_is_never_read(client, db, settings, media_root):
    # Under WSGI Django reads at most CONTENT_LENGTH bytes, none without it: a
    # chunked upload of any size can't fill memory or disk; the form comes back empty.
    settings.MAX_REQUEST_SIZE = 1024 * 1024
    data = {**submission_data(), "attachments": [sized_pdf(3 * 1024 * 1024)]}
    r = chunked_post(client, data, CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked")
    assert r.status_code == 200
    assert "Este campo es obligatorio." in r.content.decode()
    assert not Ticket.objects.exists() and stored_files(media_root) == []


def test_the_same_body_with_its_content_length_is_accepted(client, db):
    data = {**submission_data(), "attachments": [pdf()]}
    assert chunked_post(client, data).status_code == 302
    assert Attachment.objects.count() == 1


# --- per-ticket total ------------------------------------------------------------------------
def test_a_new_ticket_over_the_total_limit_is_refused_with_the_form_kept(client, db, settings):
    settings.TICKET_MAX_TOTAL_SIZE = 150 * 1024
    r = submit(
        client,
        files=[sized_pdf(100 * 1024, "a.pdf"), sized_pdf(100 * 1024, "b.pdf")],
        message="Se conserva",
    )
    html = r.content.decode()
    assert r.status_code == 200
    assert (
        "Los archivos adjuntos suman 200 KB y un ticket puede tener como máximo 150 KB en adjuntos."
        in html
    )
    assert "Se conserva</textarea>" in html
    assert not Ticket.objects.exists()


def test_a_new_ticket_within_the_total_limit_is_accepted(client, db, settings):
    settings.TICKET_MAX_TOTAL_SIZE = 250 * 1024
    assert (
        submit(
            client, files=[sized_pdf(100 * 1024, "a.pdf"), sized_pdf(100 * 1024, "b.pdf")]
        ).status_code
        == 302
    )


def test_a_reply_that_would_pass_the_tickets_total_is_refused(client, db, settings):
    settings.TICKET_MAX_TOTAL_SIZE = 250 * 1024
    t = make_ticket(files=[sized_pdf(100 * 1024, "a.pdf")])
    t.add_requester_reply(message="otro", files=[sized_pdf(100 * 1024, "b.pdf")])
    r = client.post(
        f"/ticket/{t.tracking_id}/responder/",
        {"message": "Un tercero", "attachments": [sized_pdf(100 * 1024, "c.pdf")]},
    )
    html = r.content.decode()
    assert r.status_code == 400
    assert (
        "Este ticket ya tiene 200 KB en adjuntos" in html
        and "puede adjuntar hasta 50 KB más" in html
    )
    assert "Un tercero</textarea>" in html
    assert Reply.objects.filter(ticket=t).count() == 1
    assert Attachment.objects.filter(ticket=t).count() == 2


def test_a_reply_within_the_tickets_total_is_accepted(client, db, settings):
    settings.TICKET_MAX_TOTAL_SIZE = 250 * 1024
    t = make_ticket(files=[sized_pdf(100 * 1024, "a.pdf")])
    r = client.post(
        f"/ticket/{t.tracking_id}/responder/",
        {"message": "Otro", "attachments": [sized_pdf(100 * 1024, "b.pdf")]},
    )
    assert r.status_code == 302
    assert Attachment.objects.filter(ticket=t).count() == 2


# --- downloads -------------------------------------------------------------------------------
def test_another_tickets_attachment_is_not_found(client, db):
    mine = make_ticket(files=[pdf()])
    other = make_ticket()
    a = Attachment.objects.get(ticket=mine)
    assert client.get(f"/ticket/{other.tracking_id}/adjunto/{a.pk}/").status_code == 404
    assert client.get(f"/ticket/{mine.tracking_id}/adjunto/{a.pk + 1}/").status_code == 404
    assert client.get(f"/ticket/{mine.tracking_id}/adjunto/{a.pk}/").status_code == 200


def test_a_text_file_with_markup_inside_is_only_ever_a_download(client, db):
    t = make_ticket(
        files=[SimpleUploadedFile("notas.txt", b"Hola\n<script>alert(document.cookie)</script>\n")]
    )
    a = Attachment.objects.get()
    r = client.get(f"/ticket/{t.tracking_id}/adjunto/{a.pk}/")
    assert r.status_code == 200
    assert r["Content-Disposition"].startswith("attachment;")
    assert r["Content-Type"] == "application/octet-stream"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in r["Cache-Control"]


def test_a_hostile_file_name_is_quoted_safely_in_the_download_header(client, db):
    t = make_ticket(files=[pdf('in"forme\r\nSet-Cookie: x=1;.pdf')])
    a = Attachment.objects.get()
    r = client.get(f"/ticket/{t.tracking_id}/adjunto/{a.pk}/")
    disposition = r["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert not r.cookies.get("x")
