"""Reading the spreadsheet (openpyxl, read-only streaming: 100,000 rows in little memory).

The first row with any value is the header; data rows are numbered as the sheet numbers
them, so the refusal report points at the row a person sees in Excel.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path


class SheetError(ValueError):
    """The file cannot be read as a spreadsheet (the message says why)."""


def file_hash(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read(
    path: str | Path, sheet: str | None = None
) -> tuple[list[object], Iterator[tuple[int, tuple]]]:
    """(headers, iterator of (row number, cells)) of the active sheet (or ``sheet``)."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(str(path), read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as exc:
        # an .xlsx is a zip: any other file (a renamed .xls, a text) fails as a bad zip
        raise SheetError(f"{path}: not a readable .xlsx file ({exc})") from exc
    if sheet is not None and sheet not in book.sheetnames:
        raise SheetError(f"no sheet {sheet!r}; the file has {', '.join(book.sheetnames)}")
    ws = book[sheet] if sheet else book.active
    rows = ws.iter_rows(values_only=True)
    for number, cells in enumerate(rows, start=1):
        if any(c not in (None, "") for c in cells):
            headers = [None if c is None else str(c).strip() for c in cells]
            return headers, _data(rows, number)
    raise SheetError(f"{path}: the sheet is empty")


def _data(rows, header_number: int) -> Iterator[tuple[int, tuple]]:
    for number, cells in enumerate(rows, start=header_number + 1):
        yield number, tuple(cells)
