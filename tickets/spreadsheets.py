"""The one way this project writes spreadsheet files: CSV and XLSX.

Every cell a person typed may reach Excel or LibreOffice, which run a cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula (OWASP "CSV injection").
``safe_cell`` neutralises such a cell by prefixing an apostrophe, which spreadsheets show as
text and do not display; numbers and dates stay numbers and dates.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import IO, Any

import xlsxwriter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Excel, which most offices open CSVs with, only reads the accents with a byte-order mark.
CSV_ENCODING = "utf-8-sig"


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet must receive it: text that could start a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


class Echo:
    """A file-like object that hands back what is written, for streaming a CSV response."""

    def write(self, value: str) -> str:
        return value


def csv_rows(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterable[str]:
    """Lines of a CSV, BOM first, for a ``StreamingHttpResponse``: memory stays flat."""
    writer = csv.writer(Echo())
    yield "\ufeff"
    yield writer.writerow(safe_row(header))
    for row in rows:
        yield writer.writerow(safe_row(row))


def csv_bytes_from_dicts(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """A whole CSV (header from the first row's keys) as bytes with a BOM, for small files."""
    out = io.StringIO()
    fields = list(rows[0]) if rows else []
    writer = csv.writer(out)
    writer.writerow(safe_row(fields))
    for row in rows:
        writer.writerow(safe_row(row[f] for f in fields))
    return out.getvalue().encode(CSV_ENCODING)


# Worksheet names: at most 31 characters, none of these.
_SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def xlsx_file(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> IO[bytes]:
    """An .xlsx workbook in a temporary file, rewound, one sheet per (name, header, rows).

    XlsxWriter's constant_memory mode flushes each row to a temporary file as soon as the
    next one starts, so 100,000 rows take no more memory than one; the workbook is then
    zipped into another temporary file, which the caller streams (a FileResponse) and
    which disappears when closed. Rows must come in order, which is how we write them.

    Strings are never read as formulas, numbers or links (XlsxWriter's defaults would turn
    "=1+1" into a formula), and still go through ``safe_cell``, so that a sheet saved
    again as CSV stays harmless. Datetimes must be naive, in the zone the reader expects.
    """
    out = tempfile.TemporaryFile()  # noqa: SIM115  # handed to the caller, who streams and closes it
    book = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "tmpdir": tempfile.gettempdir(),
        },
    )
    bold = book.add_format({"bold": True})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    names: set[str] = set()
    for name, header, rows in sheets:
        name = name.translate(_SHEET_FORBIDDEN)[:31]
        # Sheet names are unique regardless of case; two long captions may share 31 characters.
        n = 2
        while name.lower() in names:
            suffix = f" ({n})"
            name, n = name[: 31 - len(suffix)] + suffix, n + 1
        names.add(name.lower())
        sheet = book.add_worksheet(name)
        sheet.freeze_panes(1, 0)
        sheet.write_row(0, 0, safe_row(header), bold)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, datetime):
                    sheet.write_datetime(r, c, value, when)
                elif isinstance(value, date):
                    sheet.write_datetime(r, c, value, day)
                elif isinstance(value, bool):
                    sheet.write_boolean(r, c, value)
                elif isinstance(value, (int, float)):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, safe_cell(str(value)))
    book.close()
    out.seek(0)
    return out
