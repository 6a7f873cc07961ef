"""Cells that a spreadsheet reads as data, never as a formula: every CSV and workbook CloudFair writes
goes through here.

OWASP's rule for CSV injection: a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage
return is prefixed with a single quote, so Excel, LibreOffice and Google Sheets show it as typed
instead of running it (`=HYPERLINK(...)`, `=cmd|' /C calc'!A0`). Numbers (int, Decimal, float) stay
numbers: a negative amount is a number, not a formula, and sums keep working.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable

#: The first characters that make a spreadsheet evaluate a cell (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The cell as a spreadsheet should store it: text starting like a formula gets a leading `'`;
    numbers, dates, booleans and None pass unchanged."""
    if value is None or isinstance(value, (bool, int, float, Decimal, date, datetime)):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def neutralise_row(row: Iterable[Any]) -> list[Any]:
    return [neutralise(value) for value in row]


class _SafeWriter:
    """`csv.writer` whose rows are neutralised first."""

    def __init__(self, out, **kwargs):
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(neutralise_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out, **kwargs) -> _SafeWriter:
    """The CSV writer every export uses (same arguments as `csv.writer`)."""
    return _SafeWriter(out, **kwargs)


def append_row(sheet, row: Iterable[Any]) -> None:
    """`sheet.append(row)` for an openpyxl worksheet, neutralised: openpyxl stores any string that
    starts with `=` as a formula, and the other starts are formulas once the file is re-saved as CSV."""
    sheet.append(neutralise_row(row))
