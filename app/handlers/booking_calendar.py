"""The measurers' calendar for the «Замер» tab (read only; booking itself stays in
``app.handlers.booking``).

``GET /booking/<member_id>/calendar?from=YYYY-MM-DD&days=1..14&lead_id=<id>`` →
``{"tz", "measurers": [{"id", "name"}], "days": [{"date", "working", "cells": [...]}]}``;
a cell is ``{"measurer_id", "start", "end", "state"}`` with ``state`` free / busy / past /
this_lead (plus ``booking_id`` for this_lead). Authenticated exactly as the booking API
(the widget's signed bearer; not the application token, which every frame user receives);
bad parameters are a 400 that says what is expected.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, jsonify, request

from app.booking import calendar
from app.handlers import services as current_services
from app.handlers.booking import _authorized, _policy
from app.handlers.bounds import valid_id
from app.widgets._store import user_name

bp = Blueprint("booking_calendar", __name__)


def _day(text: str | None, default: date) -> date | None:
    if text is None:
        return default
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if 2000 <= day.year < 2100 else None


@bp.get("/booking/<member_id>/calendar")
def measurers_calendar(member_id: str):
    if not _authorized(member_id):
        return jsonify({"error": "unauthorized"}), 401
    now = datetime.now(UTC)
    days_text = request.args.get("days", "1")
    lead_text = request.args.get("lead_id")
    lead_id = valid_id(lead_text) if lead_text is not None else None
    with current_services().session() as session:
        policy = _policy(session, member_id)
        today = now.astimezone(policy.calendar.tz).date()
        first = _day(request.args.get("from"), today)
        if (
            first is None
            # ASCII and short: "²".isdigit() is True and int() refuses 5000 digits
            or not (days_text.isascii() and days_text.isdigit() and len(days_text) <= 3)
            or not 1 <= int(days_text) <= calendar.MAX_DAYS
            or (lead_text is not None and lead_id is None)
        ):
            return jsonify(
                {
                    "error": f"from must be a date YYYY-MM-DD, days 1…{calendar.MAX_DAYS}, "
                    "lead_id an id"
                }
            ), 400
        found = calendar.grid(session, member_id, policy, first, int(days_text), now, lead_id)
        measurers = [
            {"id": m, "name": user_name(session, member_id, m) or f"#{m}"}
            for m in sorted(set(policy.measurers))
        ]
    return jsonify(
        {
            "tz": str(policy.calendar.tz),
            "measurers": measurers,
            "days": [
                {
                    "date": d.day.isoformat(),
                    "working": d.working,
                    "cells": [_cell(c) for c in d.cells],
                }
                for d in found
            ],
        }
    )


def _cell(c: calendar.Cell) -> dict:
    out = {
        "measurer_id": c.measurer_id,
        "start": c.start.isoformat(),
        "end": c.end.isoformat(),
        "state": c.state,
    }
    if c.booking_id is not None:
        out["booking_id"] = c.booking_id
    return out
