"""Furniture deals (spec §2 deal rules 1–2): the client hears about the goods.

* **Manufacturing behind** (seed 000: «Если товар задерживается, то за неделю робот
  отправит клиенту sms») — a deal in «Изготовление» with «Срок изготовления» gets a durable
  timer ``sms_before_due_days`` (7) before that date, 10:00 local time. If the deal is
  *still* being made then, manufacturing is behind and the client gets ``due_delay_sms``;
  a deal that left «Изготовление» (the goods are ready) gets nothing. A due date moved
  *later* while in «Изготовление» is a delay too: the client gets ``due_moved_sms`` with the
  old and the new date at once, and the week-before timer is re-planned for the new date
  (unless that week has already begun: one SMS is enough). A timer planned for an earlier
  date finds the date changed and does nothing.
* **In store** — entering «Товар в магазине» sends the ``in_store_sms`` text.

Texts are settings with ``{title}``, ``{due}`` (and ``{old_due}``) placeholders; they go out
through :class:`MessageClient`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.domain.dates import as_date
from app.rules import actions as A
from app.rules.model import (
    FIELD_CHANGED,
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


def _sms_at(ctx: RuleContext, due: date) -> datetime:
    tz = ZoneInfo(str(ctx.settings.get("time_zone") or DEFAULT_TZ))
    days = float(ctx.settings.get("sms_before_due_days") or 7)
    return datetime.combine(due, time(10, 0), tzinfo=tz) - timedelta(days=days)


def _moved_later(ctx: RuleContext) -> tuple[date, date] | None:
    """(old, new) when this change moved a filled due date to a later one."""
    if ctx.change.kind != FIELD_CHANGED or DUE not in ctx.change.fields_changed:
        return None
    old = as_date((ctx.change.before or {}).get(DUE))
    new = as_date((ctx.record or {}).get(DUE))
    return (old, new) if old and new and new > old else None


def start_due_timer(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    if str(record.get(STAGE_FIELD) or "") != MANUFACTURING:
        return []
    due = as_date(record.get(DUE))
    if due is None:
        return []
    rid = ctx.change.record_id
    out: list[A.Action] = []
    at = _sms_at(ctx, due)
    moved = _moved_later(ctx)
    if moved is not None:
        old, new = moved
        template = str(ctx.settings.get("due_moved_sms") or "")
        text = render(template, ctx, due=f"{new:%d.%m.%Y}", old_due=f"{old:%d.%m.%Y}")
        if text.strip():
            out.append(A.MessageClient("sms", ("deal", rid), "Срок изготовления", text, key="sms"))
        if at <= ctx.now:
            return out  # the client was just told; the week-before SMS would repeat it
    payload = {"stage": MANUFACTURING, "due": due.isoformat()}
    out.append(
        A.StartTimer(
            DUE_TIMER,
            max(at, ctx.now),
            ("deal", rid),
            payload,
            cancel_on="stage_left",
            key=f"due:{due.isoformat()}",
        )
    )
    return out


def due_sms(ctx: RuleContext) -> list[A.Action]:
    """A week before the due date the deal is still in «Изготовление»: it is behind."""
    record = ctx.record or {}
    planned = (ctx.change.detail.get("payload") or {}).get("due")
    due = as_date(record.get(DUE))
    if str(record.get(STAGE_FIELD) or "") != MANUFACTURING or due is None:
        return []
    if due.isoformat() != planned:
        return []  # the due date moved since: the newer timer speaks for it
    text = render(str(ctx.settings.get("due_delay_sms") or ""), ctx, due=f"{due:%d.%m.%Y}")
    if not text.strip():
        return []
    rid = ctx.change.record_id
    return [A.MessageClient("sms", ("deal", rid), "Срок изготовления", text, key="sms")]


def in_store_sms(ctx: RuleContext) -> list[A.Action]:
    text = render(str(ctx.settings.get("in_store_sms") or ""), ctx).strip()
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
