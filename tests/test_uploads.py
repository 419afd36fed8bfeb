"""The attachment policy: types, sizes, counts, names and storage paths of ticket attachments."""

import datetime
import hashlib
import io
import re
import zipfile
from zoneinfo import ZoneInfo

import filetype
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from tickets import uploads

MB = 1024 * 1024

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"


@pytest.fixture(autouse=True)
def spanish():
    with translation.override("es"):
        yield


# --- Real-looking file contents ---------------------------------------------------------


def image_bytes(fmt, **save_options):
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(buffer, fmt, **save_options)
    return buffer.getvalue()


def animated_png_bytes():
    buffer = io.BytesIO()
    frames = [Image.new("RGB", (2, 2), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def zip_bytes(entries, *, stored_first=False):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(entries):
            compress = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=compress)
    return buffer.getvalue()


def ooxml_bytes(folder, part):
    """Entries in the order Microsoft Office writes them."""
    return zip_bytes(
        [
            ("[Content_Types].xml", "<?xml version='1.0'?><Types/>"),
            ("_rels/.rels", "<?xml version='1.0'?><Relationships/>"),
            (f"{folder}/{part}", "<?xml version='1.0'?><root/>"),
        ]
    )


def opendocument_bytes(mime):
    # The mimetype entry must come first and uncompressed, as LibreOffice writes it.
    return zip_bytes(
        [("mimetype", mime), ("content.xml", "<?xml version='1.0'?><office:document-content/>")],
        stored_first=True,
    )


def ole_bytes():
    """An OLE2 compound-file header padded to two sectors, as Office 97-2003 files start."""
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    )
    return header.ljust(1024, b"\x00")


PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")
GIF = image_bytes("GIF")
ZIP = zip_bytes([("informe.txt", "Detalle del error en SIGEC")])
EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18
DOCX_BYTES = ooxml_bytes("word", "document.xml")
OLE = ole_bytes()
TEXT = b"Hola, adjunto el detalle del error que aparece al guardar la ficha.\n"
CSV_UTF8 = "rut;nombre;comuna\n12.345.678-5;José Pérez;Ñuñoa\n".encode()
CSV_LATIN1 = "rut;nombre;comuna\n12.345.678-5;José Pérez;Ñuñoa\n".encode("latin-1")
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>'
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8
SCRIPT = b"#!/bin/sh\nrm -rf ~\n"


def upload(name, content, content_type="application/octet-stream"):
    # The browser-sent content type is deliberately wrong: the policy must not trust it.
    return SimpleUploadedFile(name, content, content_type=content_type)


def refusal(f):
    with pytest.raises(ValidationError) as caught:
        uploads.check_file(f)
    return caught.value.messages


# --- Every allowed type, with content that really is of that type -------------------------

ACCEPTED = [
    ("informe.pdf", PDF, "application/pdf"),
    ("carta.doc", OLE, "application/msword"),
    ("carta.docx", DOCX_BYTES, DOCX),
    ("planilla.xls", OLE, "application/vnd.ms-excel"),
    ("planilla.xlsx", ooxml_bytes("xl", "workbook.xml"), XLSX),
    ("presentacion.ppt", OLE, "application/vnd.ms-powerpoint"),
    ("presentacion.pptx", ooxml_bytes("ppt", "presentation.xml"), PPTX),
    ("acta.odt", opendocument_bytes(ODT), ODT),
    ("cuadro.ods", opendocument_bytes(ODS), ODS),
    ("charla.odp", opendocument_bytes(ODP), ODP),
    ("captura.jpg", JPEG, "image/jpeg"),
    ("foto.jpeg", JPEG, "image/jpeg"),
    ("pantalla.png", PNG, "image/png"),
    ("animacion.gif", GIF, "image/gif"),
    ("detalle.txt", TEXT, "text/plain"),
    ("beneficiarios.csv", CSV_UTF8, "text/csv"),
    ("respaldo.zip", ZIP, "application/zip"),
]


def test_every_allowed_extension_in_the_default_settings_has_an_acceptance_case(settings):
    assert sorted(ext for ext in settings.TICKET_ALLOWED_EXTENSIONS) == sorted(
        name.rsplit(".", 1)[1] for name, _, _ in ACCEPTED
    )


@pytest.mark.parametrize(
    ("name", "content", "stored_type"), ACCEPTED, ids=[row[0] for row in ACCEPTED]
)
def test_it_accepts_each_allowed_type_and_returns_the_type_to_store(name, content, stored_type):
    assert uploads.check_file(upload(name, content)) == stored_type


@pytest.mark.parametrize(
    ("name", "content", "stored_type"),
    [
        ("foto.JPG", JPEG, "image/jpeg"),
        ("FACTURA.PDF", PDF, "application/pdf"),
        ("Informe.Docx", DOCX_BYTES, DOCX),
    ],
)
def test_it_accepts_an_uppercase_or_mixed_case_extension(name, content, stored_type):
    assert uploads.check_file(upload(name, content)) == stored_type


def test_it_accepts_a_latin1_csv_as_excel_exports_it():
    assert uploads.check_file(upload("beneficiarios.csv", CSV_LATIN1)) == "text/csv"


def test_it_accepts_a_docx_whose_zip_entries_filetype_does_not_recognise():
    # Written by tools that put other parts first; `filetype` only sees a ZIP here.
    content = zip_bytes(
        [
            ("docProps/custom.xml", "<?xml version='1.0'?><Properties/>"),
            ("customXml/item1.xml", "<?xml version='1.0'?><root/>"),
            ("customXml/item2.xml", "<?xml version='1.0'?><root/>"),
            ("customXml/item3.xml", "<?xml version='1.0'?><root/>"),
            ("customXml/item4.xml", "<?xml version='1.0'?><root/>"),
            ("word/document.xml", "<?xml version='1.0'?><w:document/>"),
            ("[Content_Types].xml", "<?xml version='1.0'?><Types/>"),
        ]
    )
    assert filetype.guess(content).mime == "application/zip"
    assert uploads.check_file(upload("carta.docx", content)) == DOCX


def test_it_accepts_an_empty_zip_archive():
    assert uploads.check_file(upload("vacio.zip", EMPTY_ZIP)) == "application/zip"


def test_it_accepts_an_animated_png_which_filetype_calls_apng():
    content = animated_png_bytes()
    assert filetype.guess(content).mime == "image/apng"
    assert uploads.check_file(upload("animacion.png", content)) == "image/png"


def test_it_accepts_a_csv_whose_first_letters_filetype_takes_for_a_bitmap():
    content = b"BMW;2021;patente ABCD-12\n"
    assert filetype.guess(content).mime == "image/bmp"
    assert uploads.check_file(upload("vehiculos.csv", content)) == "text/csv"


# --- Extensions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("instalador.exe", EXE),
        ("pagina.html", HTML),
        ("logo.svg", SVG),
        ("script.js", b"alert(1)\n"),
        ("sin_extension", PDF),
        ("pdf", PDF),
        ("informe.pdf.exe", EXE),
    ],
)
def test_it_refuses_a_file_whose_extension_is_not_allowed(name, content):
    [message] = refusal(upload(name, content))
    assert "no tiene un tipo permitido" in message


def test_it_accepts_a_double_extension_when_the_last_one_is_allowed():
    assert uploads.check_file(upload("informe.exe.pdf", PDF)) == "application/pdf"


def test_it_refuses_an_extension_removed_from_settings(settings):
    settings.TICKET_ALLOWED_EXTENSIONS = ["pdf"]
    assert "no tiene un tipo permitido" in refusal(upload("pantalla.png", PNG))[0]


def test_it_accepts_an_extension_kept_in_settings(settings):
    settings.TICKET_ALLOWED_EXTENSIONS = ["PDF", ".png"]
    assert uploads.check_file(upload("pantalla.png", PNG)) == "image/png"
    assert uploads.check_file(upload("informe.pdf", PDF)) == "application/pdf"


def test_it_refuses_an_extension_in_settings_whose_content_it_cannot_check(settings):
    settings.TICKET_ALLOWED_EXTENSIONS = ["pdf", "exe"]
    assert "no tiene un tipo permitido" in refusal(upload("instalador.exe", EXE))[0]
    assert [t["extension"] for t in uploads.allowed_types()] == ["pdf"]


# --- Disguised files -----------------------------------------------------------------------

DISGUISED = [
    pytest.param("factura.pdf", EXE, id="windows-exe-as-pdf"),
    pytest.param("factura.pdf", ELF, id="elf-as-pdf"),
    pytest.param("factura.pdf", SCRIPT, id="shell-script-as-pdf"),
    pytest.param("notas.txt", SCRIPT, id="shell-script-as-txt"),
    pytest.param("notas.txt", EXE, id="windows-exe-as-txt"),
    pytest.param("captura.png", HTML, id="html-as-png"),
    pytest.param("notas.txt", HTML, id="html-as-txt"),
    pytest.param("datos.csv", HTML, id="html-as-csv"),
    pytest.param("captura.jpg", SVG, id="svg-as-jpg"),
    pytest.param("factura.pdf", ZIP, id="zip-as-pdf"),
    pytest.param("factura.pdf", DOCX_BYTES, id="docx-as-pdf"),
    pytest.param("captura.png", PDF, id="pdf-as-png"),
    pytest.param("captura.jpg", PNG, id="png-as-jpg"),
    pytest.param("captura.png", GIF, id="gif-as-png"),
    pytest.param("carta.docx", OLE, id="ole-as-docx"),
    pytest.param("carta.doc", DOCX_BYTES, id="docx-as-doc"),
    pytest.param("respaldo.zip", PDF, id="pdf-as-zip"),
    pytest.param("notas.txt", PNG, id="png-as-txt"),
    pytest.param("notas.txt", b"texto\x00binario", id="nul-byte-as-txt"),
    pytest.param("captura.png", b"\x00\x01\x02\x03 nada reconocible", id="unknown-binary-as-png"),
    pytest.param("animacion.gif", b"GIF es un formato de imagen\n", id="text-starting-GIF-as-gif"),
    pytest.param("factura.pdf", b"\xef\xbb\xbf%PDF-1.4\n", id="bom-before-pdf-header"),
]


@pytest.mark.parametrize(("name", "content"), DISGUISED)
def test_it_refuses_content_that_does_not_match_the_extension(name, content):
    [message] = refusal(upload(name, content))
    assert "no corresponde a su extensión" in message


def test_it_refuses_an_executable_renamed_pdf():
    [message] = refusal(upload("factura.pdf", EXE, content_type="application/pdf"))
    assert message == 'El contenido del archivo "factura.pdf" no corresponde a su extensión .pdf.'


def test_it_refuses_html_renamed_png():
    assert refusal(upload("captura.png", HTML, content_type="image/png"))


def test_it_refuses_svg_renamed_jpg():
    assert refusal(upload("captura.jpg", SVG, content_type="image/jpeg"))


@pytest.mark.parametrize(
    "content",
    [
        b"<html><body>hola</body></html>",
        b"   \r\n\t<HTML>",
        b"\xef\xbb\xbf<!DocType html>",
        b"<script>alert(1)</script>",
        b"<svg onload=alert(1)>",
        b'<?xml version="1.0"?><svg/>',
        b"<body onload=alert(1)>",
        b"<head><title>x</title></head>",
        b"<iframe src=//evil>",
        b"<!-- comentario -->",
        b"<a href=//evil>clic</a>",
        b"<p>hola</p>",
        b"<div class=x>",
    ],
)
def test_it_refuses_text_that_a_browser_would_sniff_as_markup(content):
    assert "no corresponde a su extensión" in refusal(upload("notas.txt", content))[0]


@pytest.mark.parametrize(
    "content",
    [
        b"El sistema muestra <html> en la pantalla de inicio\n",
        b"<abc> no es una etiqueta HTML\n",
        b"<pendiente>\n",
        b"a < b y b > c\n",
        b"x",
    ],
)
def test_it_accepts_text_that_only_mentions_markup(content):
    assert uploads.check_file(upload("notas.txt", content)) == "text/plain"


# --- Empty files and size -------------------------------------------------------------------


def test_it_refuses_an_empty_file():
    [message] = refusal(upload("vacio.txt", b""))
    assert message == 'El archivo "vacio.txt" está vacío.'


def test_it_accepts_a_one_byte_text_file():
    assert uploads.check_file(upload("uno.txt", b"1")) == "text/plain"


def test_it_refuses_a_file_one_byte_over_the_limit(settings):
    settings.TICKET_MAX_FILE_SIZE = 1 * MB
    content = PDF + b"%" * (MB + 1 - len(PDF))
    [message] = refusal(upload("grande.pdf", content))
    assert message == 'El archivo "grande.pdf" pesa más de 1 MB, el máximo permitido.'


def test_it_accepts_a_file_exactly_at_the_limit(settings):
    settings.TICKET_MAX_FILE_SIZE = 1 * MB
    content = PDF + b"%" * (MB - len(PDF))
    assert uploads.check_file(upload("grande.pdf", content)) == "application/pdf"


def test_it_judges_size_by_the_upload_size_with_the_default_ten_megabytes():
    # f.size comes from the upload handler; the file is not read to measure it.
    over = upload("grande.pdf", PDF)
    over.size = 10 * MB + 1
    assert refusal(over) == ['El archivo "grande.pdf" pesa más de 10 MB, el máximo permitido.']

    at_limit = upload("grande.pdf", PDF)
    at_limit.size = 10 * MB
    assert uploads.check_file(at_limit) == "application/pdf"


def test_the_size_limit_in_the_message_follows_the_settings(settings):
    settings.TICKET_MAX_FILE_SIZE = 2 * MB + MB // 2
    over = upload("grande.pdf", PDF)
    over.size = settings.TICKET_MAX_FILE_SIZE + 1
    assert "pesa más de 2,5 MB" in refusal(over)[0]


# --- Several files ---------------------------------------------------------------------------


def test_it_refuses_eleven_files():
    files = [upload(f"captura{i}.png", PNG) for i in range(11)]
    with pytest.raises(ValidationError) as caught:
        uploads.check_files(files)
    assert caught.value.messages == ["Puede adjuntar como máximo 10 archivos."]


def test_it_accepts_ten_files():
    files = [upload(f"captura{i}.png", PNG) for i in range(10)]
    assert uploads.check_files(files) == ["image/png"] * 10


def test_the_file_count_limit_follows_the_settings(settings):
    settings.TICKET_MAX_FILES = 1
    with pytest.raises(ValidationError) as caught:
        uploads.check_files([upload("a.png", PNG), upload("b.png", PNG)])
    assert caught.value.messages == ["Puede adjuntar como máximo 1 archivo."]
    assert uploads.check_files([upload("a.png", PNG)]) == ["image/png"]


def test_it_accepts_no_files():
    assert uploads.check_files([]) == []


def test_it_reports_every_refused_file_not_only_the_first():
    files = [
        upload("bien.pdf", PDF),
        upload("virus.exe", EXE),
        upload("vacio.txt", b""),
        upload("falso.png", HTML),
    ]
    with pytest.raises(ValidationError) as caught:
        uploads.check_files(files)
    messages = caught.value.messages
    assert len(messages) == 3
    assert '"virus.exe"' in messages[0]
    assert '"vacio.txt"' in messages[1]
    assert '"falso.png"' in messages[2]


def test_it_returns_the_types_of_all_files_in_order_when_all_are_good():
    files = [upload("a.pdf", PDF), upload("b.csv", CSV_UTF8), upload("c.jpg", JPEG)]
    assert uploads.check_files(files) == ["application/pdf", "text/csv", "image/jpeg"]


# --- Messages ----------------------------------------------------------------------------


def test_the_message_is_in_spanish_and_names_the_file_by_its_display_name():
    [message] = refusal(upload("..\\..\\Instalador SIGEC.exe", EXE))
    assert message == (
        'El archivo "Instalador SIGEC.exe" no tiene un tipo permitido. Revise la lista de tipos permitidos.'
    )


def test_the_messages_carry_codes_for_callers():
    with pytest.raises(ValidationError) as caught:
        uploads.check_file(upload("vacio.txt", b""))
    assert caught.value.code == "file_empty"


# --- detect_type -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(PDF, "application/pdf", id="pdf"),
        pytest.param(PNG, "image/png", id="png"),
        pytest.param(JPEG, "image/jpeg", id="jpeg"),
        pytest.param(GIF, "image/gif", id="gif"),
        pytest.param(ZIP, "application/zip", id="zip"),
        pytest.param(EMPTY_ZIP, "application/zip", id="empty-zip"),
        pytest.param(DOCX_BYTES, DOCX, id="docx"),
        pytest.param(OLE, "application/x-ole-storage", id="ole2"),
        pytest.param(TEXT, "text/plain", id="text"),
        pytest.param(HTML, "text/html", id="html"),
        pytest.param(SVG, "image/svg+xml", id="svg"),
        pytest.param(EXE, "application/x-msdownload", id="windows-exe"),
        pytest.param(ELF, "application/x-executable", id="elf"),
        pytest.param(SCRIPT, "text/x-shellscript", id="shell-script"),
        pytest.param(b"\x00\x01\x02\x03", None, id="unknown-binary"),
        pytest.param(b"", None, id="empty"),
    ],
)
def test_detect_type_names_the_content_from_its_bytes(content, expected):
    assert uploads.detect_type(upload("cualquiera.bin", content)) == expected


class CountingBytesIO(io.BytesIO):
    def __init__(self, content):
        super().__init__(content)
        self.reads = []

    def read(self, size=-1):
        data = super().read(size)
        self.reads.append(len(data))
        return data


def test_detect_type_reads_only_the_beginning_and_rewinds():
    f = upload("grande.pdf", b"")
    f.file = CountingBytesIO(PDF + b"%" * (64 * 1024))
    f.read(100)
    assert uploads.detect_type(f) == "application/pdf"
    assert max(f.file.reads[1:]) <= 8192
    assert f.tell() == 0


# --- safe_display_name -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Informe de gestión 2024.pdf", "Informe de gestión 2024.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\a.pdf", "a.pdf"),
        ("..\\..\\windows/system32\\cmd.exe", "cmd.exe"),
        ("a\x00b.pdf", "ab.pdf"),
        ("informe\r\nContent-Type: text.pdf", "informe Content-Type: text.pdf"),
        ("foto\x07\x1b[31m.jpg", "foto[31m.jpg"),
        ("factura\u202efdp.exe", "facturafdp.exe"),
        ("invisible\u200b\ufeff.pdf", "invisible.pdf"),
        (".htaccess", "htaccess"),
        ("...informe.pdf", "informe.pdf"),
        ("  muchos \t  espacios   .pdf  ", "muchos espacios .pdf"),
        ("Ñandú y pingüino.png", "Ñandú y pingüino.png"),
        ("", "adjunto"),
        ("...", "adjunto"),
        ("../", "adjunto"),
        ("\x00\u202e", "adjunto"),
    ],
)
def test_safe_display_name_keeps_only_harmless_display_text(raw, expected):
    assert uploads.safe_display_name(raw) == expected


def test_safe_display_name_shortens_a_very_long_name_keeping_the_extension():
    name = uploads.safe_display_name("a" * 300 + ".docx")
    assert len(name) == 150
    assert name.endswith("a.docx")


def test_safe_display_name_leaves_a_name_of_exactly_150_characters_alone():
    raw = "b" * 146 + ".pdf"
    assert uploads.safe_display_name(raw) == raw


def test_safe_display_name_cuts_a_long_name_without_extension():
    assert uploads.safe_display_name("c" * 300) == "c" * 150


# --- random_storage_name ---------------------------------------------------------------

STORAGE_NAME = re.compile(r"^attachments/\d{4}/\d{2}/[0-9a-f]{32}(\.[a-z]+)?$")


def test_random_storage_name_never_contains_the_original_name():
    path = uploads.random_storage_name(None, "../../Sumario Confidencial.PDF")
    assert STORAGE_NAME.match(path)
    assert path.endswith(".pdf")
    assert "Sumario" not in path and "Confidencial" not in path and ".." not in path


def test_random_storage_name_keeps_only_an_allowed_extension():
    path = uploads.random_storage_name(None, "instalador.exe")
    assert STORAGE_NAME.match(path)
    assert "exe" not in path and not path.endswith(".")


def test_random_storage_name_keeps_only_the_last_extension_lowercased():
    assert uploads.random_storage_name(None, "planilla.exe.XLSX").endswith(".xlsx")


def test_random_storage_name_is_new_each_time():
    assert uploads.random_storage_name(None, "a.pdf") != uploads.random_storage_name(None, "a.pdf")


def test_random_storage_name_files_by_year_and_month_in_chile():
    # 02:00 UTC on 1 March is still 28 February in Santiago.
    with time_machine.travel(
        datetime.datetime(2025, 3, 1, 2, 0, tzinfo=ZoneInfo("UTC")), tick=False
    ):
        assert uploads.random_storage_name(None, "a.pdf").startswith("attachments/2025/02/")


# --- sha256_of -----------------------------------------------------------------------------


def test_sha256_of_matches_hashlib_and_leaves_the_file_readable_from_the_start():
    content = PDF + bytes(range(256)) * 20_000  # several chunks
    f = upload("informe.pdf", content)
    f.read(10)
    assert uploads.sha256_of(f) == hashlib.sha256(content).hexdigest()
    assert f.read() == content


def test_sha256_of_reads_in_chunks():
    f = upload("informe.pdf", PDF * 1000)
    chunks = []
    original_chunks = f.chunks

    def recording_chunks(chunk_size=None):
        for chunk in original_chunks(chunk_size):
            chunks.append(chunk)
            yield chunk

    f.chunks = recording_chunks
    assert uploads.sha256_of(f) == hashlib.sha256(PDF * 1000).hexdigest()
    assert chunks


# --- allowed_types ------------------------------------------------------------------------


def test_allowed_types_lists_the_settings_extensions_in_order_with_spanish_descriptions(settings):
    types = uploads.allowed_types()
    assert [t["extension"] for t in types] == list(settings.TICKET_ALLOWED_EXTENSIONS)
    assert types[0] == {"extension": "pdf", "description": "Documento PDF"}
    assert all(str(t["description"]) for t in types)


def test_allowed_types_follows_the_settings_at_call_time(settings):
    settings.TICKET_ALLOWED_EXTENSIONS = ["png", "pdf"]
    assert [t["extension"] for t in uploads.allowed_types()] == ["png", "pdf"]
