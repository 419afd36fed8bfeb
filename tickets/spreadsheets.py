"""The one way this project writes spreadsheet files (CSV, and XLSX when the reports need it).

Every cell a person typed may reach Excel or LibreOffice, which run a cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula (OWASP "CSV injection").
``safe_cell`` neutralises such a cell by prefixing an apostrophe, which spreadsheets show as
text and do not display; numbers and dates stay numbers and dates.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

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
