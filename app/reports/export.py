"""A report's tables as one CSV file a person opens in Excel.

UTF-8 with a byte-order mark: without it Excel reads the file in the system's ANSI code page
and Cyrillic turns into mojibake. The separator follows the page's language: Excel splits
on the list separator of the user's locale, which is ``;`` in Russian locales (where ``,`` is
the decimal mark) and ``,`` in English ones. Each table starts with a line holding its
title, then its header and rows; a blank line separates tables.

A text cell that Excel would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR first —
a lead titled ``=HYPERLINK(…)``) is written with a leading ``'``, which Excel shows as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

from app.reports import Table

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(tables: Iterable[Table], lang: str = "ru") -> bytes:
    """The tables as CSV bytes (UTF-8 with BOM, ``;`` for ru and ``,`` for en)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter="," if lang == "en" else ";", lineterminator="\r\n")
    for n, table in enumerate(tables):
        if n:
            writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.columns)
        writer.writerows([_cell(v) for v in row] for row in table.rows)
        if table.note:
            writer.writerow([table.note])
    return out.getvalue().encode("utf-8")
