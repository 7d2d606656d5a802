"""Bounds every number and moment a client may send (marshmallow fields and plain checks).

Bitrix24 record ids are positive integers of an SQL ``INT`` column; anything larger is not a
record and would overflow our own columns (a 500 on PostgreSQL, an ``OverflowError`` on
SQLite). Moments are real business times: year 9999 overflows the moment a duration is
added to it. Out-of-bounds input is a 400 with the field named, before anything is read or
written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import fields, validate

MAX_ID = 2**31 - 1
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
ID_RANGE = validate.Range(min=1, max=MAX_ID, error="must be a record id (1…{max})")
MOMENT_RANGE = validate.Range(min=EARLIEST, max=LATEST, error="must be between {min} and {max}")


def Id(**kwargs: Any) -> fields.Integer:  # noqa: N802 - reads like a field class
    """A record/user id: integer 1…MAX_ID (numeric strings accepted)."""
    return fields.Integer(strict=False, validate=ID_RANGE, **kwargs)


def Moment(**kwargs: Any) -> fields.AwareDateTime:  # noqa: N802
    """An ISO 8601 moment with a time zone offset, within [EARLIEST, LATEST)."""
    return fields.AwareDateTime(validate=MOMENT_RANGE, **kwargs)


def valid_id(value: Any) -> int | None:
    """``value`` as an id within bounds, or None (bools, floats, huge or signed are not)."""
    if isinstance(value, bool):
        return None
    text = str(value).strip() if value is not None else ""
    # ASCII only: "²".isdigit() is True but int("²") raises
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def valid_moment(text: str) -> datetime | None:
    """An aware ISO 8601 moment within bounds, or None."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None or not EARLIEST <= moment < LATEST:
        return None
    return moment
