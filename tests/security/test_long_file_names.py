"""A file name too long for Django's multipart parser gives the form back (issue 22, "Also").

Django refuses a request whose part headers pass 1,024 bytes with a bare 400, losing
everything typed; tickets/multipart.py shortens such a name while the body streams in.
"""

import io

import pytest
from django.test.client import BOUNDARY, encode_multipart

from tests.conftest import PDF, make_ticket, submission_data
from tests.security.helpers import SUBMIT
from tickets.models import Attachment, Ticket
from tickets.multipart import HeaderShortener

# 600 two-byte characters: 1,200 bytes of name, as a long Spanish or Asian name can be.
LONG_NAME = "informe-" + "ñ" * 600 + ".pdf"


def named(name, content=PDF):
    # SimpleUploadedFile would cut the name to 255 characters itself; a browser does not.
    f = io.BytesIO(content)
    f.name = name
    return f


def test_an_over_long_file_name_gives_the_form_back_with_what_was_typed(client, db):
    data = submission_data(name="Alicia Larga", message="Mi mensaje escrito con cuidado.")
    r = client.post(SUBMIT, {**data, "attachments": [named(LONG_NAME), named("otro.pdf")]})
    html = r.content.decode()
    assert r.status_code == 200
    assert "es demasiado largo. Cámbiele el nombre por uno más corto" in html
    assert "informe-ññ" in html and ".pdf" in html  # enough of the name to recognise it
    assert "Alicia Larga" in html and "Mi mensaje escrito con cuidado." in html
    assert not Ticket.objects.exists()


def test_a_long_name_that_fits_the_parser_is_kept_shortened(client, db):
    # The sibling: 200 characters parse; the stored name is cut to 150 keeping ".pdf".
    name = "informe-" + "ñ" * 200 + ".pdf"
    assert (
        client.post(SUBMIT, {**submission_data(), "attachments": [named(name)]}).status_code == 302
    )
    stored = Attachment.objects.get().original_name
    assert len(stored) == 150 and stored.endswith(".pdf")


def test_a_reply_with_an_over_long_file_name_keeps_the_message(client, db):
    t = make_ticket()
    r = client.post(
        f"/ticket/{t.tracking_id}/responder/",
        {"message": "Mi respuesta escrita.", "attachments": [named(LONG_NAME)]},
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert "es demasiado largo" in html and "Mi respuesta escrita." in html
    assert not t.replies.exists()


def test_without_the_middleware_django_would_answer_a_bare_400(client, db, settings):
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "tickets.multipart.long_file_names"
    ]
    r = client.post(
        SUBMIT, {**submission_data(name="Alicia Larga"), "attachments": [named(LONG_NAME)]}
    )
    assert r.status_code == 400 and "Alicia Larga" not in r.content.decode()


# --- the stream itself ------------------------------------------------------------------
def body(**fields):
    return encode_multipart(BOUNDARY, fields)


def read_all(data: bytes, read_size: int) -> bytes:
    stream = HeaderShortener(io.BytesIO(data), BOUNDARY.encode())
    out = b""
    while chunk := stream.read(read_size):
        out += chunk
    return out


@pytest.mark.parametrize("read_size", [1, 7, 100, 65536])
def test_an_ordinary_body_passes_byte_for_byte(read_size):
    data = body(name="Alicia", message="línea\r\n--no es un límite\r\n", attachments=named("a.pdf"))
    assert read_all(data, read_size) == data


@pytest.mark.parametrize("read_size", [1, 13, 1000, 65536])
def test_only_the_long_header_changes_whatever_the_chunk_size(read_size):
    data = body(name="Alicia", attachments=named(LONG_NAME), message="después")
    out = read_all(data, read_size)
    assert len(out) < len(data)
    assert b'name="name"\r\n\r\nAlicia\r\n' in out and b"\r\n\r\ndespu\xc3\xa9s\r\n" in out
    assert PDF in out
    assert "ñ" * 600 not in out.decode() and "mesaayuda-nombre-largo=1" in out.decode()


def test_readline_drains_the_same_bytes():
    data = body(message="uno\r\ndos", attachments=named("a.pdf"))
    stream = HeaderShortener(io.BytesIO(data), BOUNDARY.encode())
    assert b"".join(iter(stream.readline, b"")) == data
