"""Furniture deals (spec §2 deal rules 1–2): the client hears about the goods.

* **Due date** — a deal in «Изготовление» with «Срок изготовления» gets a durable timer
  ``sms_before_due_days`` (7) before that date; if the deal is still being made then, the
  client gets an SMS that the order is on its way to the store. A new due date starts a new
  timer; the old one finds the date changed and does nothing. Leaving «Изготовление»
  cancels it.
* **In store** — entering «Товар в магазине» sends the ``in_store_sms`` text.

Both go out through :class:`MessageClient` (recorded on the deal's timeline).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from app.rules import actions as A
from app.rules.model import (
    STAGE_FIELD,
    Rule,
    RuleContext,
    on_field_changed,
    on_stage_entered,
    on_timer,
)
from app.timers.calendars import DEFAULT_TZ
from app.timers.steps import render

MANUFACTURING = "furniture.deal.manufacturing"
IN_STORE = "furniture.deal.in_store"
DUE = "UF_CRM_FR_DUE_DATE"
DUE_TIMER = "furniture.due_date_sms"
DUE_TEXT = (
    "Ваш заказ «{title}» изготавливается, срок готовности — {due}. "
    "Мы сообщим, когда он будет в магазине."
)


def _due(value) -> date | None:
    """A date field's value ("2026-12-01" or "2026-12-01T00:00:00+03:00") as a date."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def start_due_timer(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    if str(record.get(STAGE_FIELD) or "") != MANUFACTURING:
        return []
    due = _due(record.get(DUE))
    if due is None:
        return []
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(str(ctx.settings.get("time_zone") or DEFAULT_TZ))
    days = float(ctx.settings.get("sms_before_due_days") or 7)
    at = datetime.combine(due, time(10, 0), tzinfo=tz) - timedelta(days=days)
    rid = ctx.change.record_id
    payload = {"stage": MANUFACTURING, "due": due.isoformat()}
    return [
        A.StartTimer(
            DUE_TIMER,
            max(at, ctx.now),
            ("deal", rid),
            payload,
            cancel_on="stage_left",
            key=f"due:{due.isoformat()}",
        )
    ]


def due_sms(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    planned = (ctx.change.detail.get("payload") or {}).get("due")
    due = _due(record.get(DUE))
    if str(record.get(STAGE_FIELD) or "") != MANUFACTURING or due is None:
        return []
    if due.isoformat() != planned:
        return []  # the due date moved since: the newer timer speaks for it
    text = render(DUE_TEXT, ctx, due=f"{due:%d.%m.%Y}")
    rid = ctx.change.record_id
    return [A.MessageClient("sms", ("deal", rid), "Срок изготовления", text, key="sms")]


def in_store_sms(ctx: RuleContext) -> list[A.Action]:
    text = str(ctx.settings.get("in_store_sms") or "").strip()
    if not text:
        return []
    rid = ctx.change.record_id
    return [A.MessageClient("sms", ("deal", rid), "Товар в магазине", text, key="sms")]


RULES = [
    Rule("due_timer_on_stage", "deal", on_stage_entered(MANUFACTURING), start_due_timer),
    Rule("due_timer_on_date", "deal", on_field_changed(DUE), start_due_timer),
    Rule("due_sms", "deal", on_timer(DUE_TIMER), due_sms),
    Rule("in_store_sms", "deal", on_stage_entered(IN_STORE), in_store_sms),
]
