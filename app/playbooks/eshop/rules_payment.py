"""Eshop (seed 004 audit: «Отсутствуют уведомления об оплатах»): the payment state of an
order and the responsible told about payments and overdue ones.

The order carries «Оплачено, ₽» (written by the site's integration or the manager),
«Оплатить до» and the list field «Оплата» that the app keeps: «Не оплачен», «Оплачен
частично», «Оплачен» (paid ≥ the order's sum) or «Просрочен» (not fully paid after the
«Оплатить до» day). When «Оплачено» grows, the responsible is told
(``payment_received_text``); the morning after «Оплатить до» a timer checks the order and,
if it is still not paid in full, marks it «Просрочен» and tells the responsible
(``payment_overdue_text``). Texts take ``{title}``, ``{paid}``, ``{sum}``, ``{due}``,
``{state}``. Orders of other pipelines are left alone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.domain.dates import as_date
from app.domain.payments import payment_state
from app.rules import actions as A
from app.rules.model import (
    FIELD_CHANGED,
    RESPONSIBLE_FIELD,
    STAGE_FIELD,
    Rule,
    RuleContext,
    on_created,
    on_field_changed,
    on_timer,
)
from app.timers import handlers
from app.timers.calendars import DEFAULT_TZ
from app.timers.steps import render

PAID, DUE, STATE = "UF_CRM_ES_PAID", "UF_CRM_ES_PAY_DUE", "UF_CRM_ES_PAYMENT"
KIND = "eshop.payment_due"
LABELS = {
    "unpaid": "Не оплачен",
    "partial": "Оплачен частично",
    "paid": "Оплачен",
    "overdue": "Просрочен",
}
handlers.register_kind(KIND)


def _money(value: Any) -> float:
    try:
        return float(str(value).split("|")[0] or 0)  # a money field reads "1500|RUB"
    except (TypeError, ValueError):
        return 0.0


def _is_order(record) -> bool:
    return str(record.get(STAGE_FIELD) or "").startswith("eshop.order.")


def _today(ctx: RuleContext) -> date:
    return ctx.now.astimezone(ZoneInfo(str(ctx.settings.get("time_zone") or DEFAULT_TZ))).date()


def _state_id(ctx: RuleContext, code: str) -> Any:
    try:
        return ctx.schema.enum_id(STATE, code, entity="deal")
    except (KeyError, AttributeError):
        return None


def _text(ctx: RuleContext, key: str, state: str) -> str:
    record = ctx.record or {}
    due = as_date(record.get(DUE))
    return render(
        str(ctx.settings.get(key) or ""),
        ctx,
        paid=f"{_money(record.get(PAID)):g}",
        sum=f"{_money(record.get('opportunity')):g}",
        due=f"{due:%d.%m.%Y}" if due else "—",
        state=LABELS[state],
    ).strip()


def _write_state(ctx: RuleContext, state: str) -> list[A.Action]:
    wanted = _state_id(ctx, state)
    have = (ctx.record or {}).get(STATE)
    if wanted is None or str(have) == str(wanted):
        return []
    return [A.UpdateFields("deal", ctx.change.record_id, {STATE: wanted}, key="state")]


def on_payment_fields(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    if not _is_order(record):
        return []
    rid = ctx.change.record_id
    paid, total, due = (
        _money(record.get(PAID)),
        _money(record.get("opportunity")),
        as_date(record.get(DUE)),
    )
    state = payment_state(paid, total, due, _today(ctx))
    out = _write_state(ctx, state)
    before = _money((ctx.change.before or {}).get(PAID))
    who = record.get(RESPONSIBLE_FIELD)
    if ctx.change.kind == FIELD_CHANGED and paid > before and who:
        text = _text(ctx, "payment_received_text", state)
        if text:
            out.append(A.Notify((int(who),), text, key="paid"))
    if due is not None and state != "paid":
        tz = ZoneInfo(str(ctx.settings.get("time_zone") or DEFAULT_TZ))
        at = max(datetime.combine(due + timedelta(days=1), time(9, 0), tzinfo=tz), ctx.now)
        payload = {"due": due.isoformat()}
        out.append(A.StartTimer(KIND, at, ("deal", rid), payload, key=f"due:{due.isoformat()}"))
    return out


def overdue(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    due = as_date(record.get(DUE))
    planned = (ctx.change.detail.get("payload") or {}).get("due")
    if not _is_order(record) or due is None or due.isoformat() != planned:
        return []  # the date moved since: the newer timer checks it
    paid, total = _money(record.get(PAID)), _money(record.get("opportunity"))
    if payment_state(paid, total, due, _today(ctx)) != "overdue":
        return []
    if str(record.get(STAGE_FIELD)) in ("eshop.order.cancelled",):
        return []
    out = _write_state(ctx, "overdue")
    who = record.get(RESPONSIBLE_FIELD)
    text = _text(ctx, "payment_overdue_text", "overdue")
    if who and text:
        out.append(A.Notify((int(who),), text, key="overdue"))
    return out


RULES = [
    Rule("payment_new_order", "deal", on_created(), on_payment_fields),
    Rule("payment_fields", "deal", on_field_changed(PAID, DUE, "opportunity"), on_payment_fields),
    Rule("payment_overdue", "deal", on_timer(KIND), overdue),
]
