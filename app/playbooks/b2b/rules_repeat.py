"""B2B repeat sales (spec §4 rule 5): after a sale the client goes on to the next order.

* A deal won — «Первая поставка» in sales or «Отгружено» in repeat sales — opens the
  client's next deal in the repeat-sales pipeline («Дозаказ запланирован», same company,
  contact and responsible) with a reorder to-do due after the client's reorder interval:
  the company's «Интервал дозаказа, дней» when set (a manager's override), else
  ``reorder_days_by_business`` for its «Тип бизнеса» (else 30 days) adjusted by the
  company's «Объём заказа» (bigger buyers reorder sooner, ``app.domain.b2b``), «География»
  (``reorder_geo_factors``: part of the geography → factor) and «Целевая аудитория»
  (``reorder_audience_factors``) — seed 003: «от совокупности этих факторов зависит
  периодичность заказа» — moved into working time.
* The interval is shown on the company card, «Интервал дозаказа (расчёт), дней», rewritten
  whenever one of those fields changes (only when it differs). The won deal keeps its win,
  so sales statistics stay true; the repeat pipeline holds the client's future.
* A deal lost («Клиент потерян») gets a to-do for its responsible: find out why.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.domain.b2b import ReorderSettings
from app.domain.numbers import ValueProblem, parse_number
from app.domain.text import normalise_text
from app.playbooks.b2b import BUSINESS_TYPES
from app.playbooks.b2b import rules_stage_gate as stage_gate
from app.rules import actions as A
from app.rules.changes import normalize
from app.rules.model import (
    RESPONSIBLE_FIELD,
    Rule,
    RuleContext,
    on_created,
    on_field_changed,
    on_stage_entered,
)
from app.timers.calendars import work_calendar

SOLD = ("b2b.sales.won", "b2b.repeat.won")
LOST = ("b2b.sales.lost", "b2b.repeat.lost")
PLANNED = "b2b.repeat.planned"
REPEAT_PIPELINE = "b2b.repeat"
REORDER_DAYS, BUSINESS = "UF_CRM_B2B_REORDER_DAYS", "UF_CRM_B2B_BUSINESS"
VOLUME, GEO, AUDIENCE = "UF_CRM_B2B_VOLUME", "UF_CRM_B2B_GEO", "UF_CRM_B2B_AUDIENCE"
SHOWN = "UF_CRM_B2B_REORDER_CALC"
DEFAULT_DAYS = 30
REORDER_TODO = "Дозаказ: связаться с клиентом «{name}»"
WHY_LOST_TODO = "Выяснить причину ухода клиента: {name}"


def _text(settings: Mapping[str, Any], key: str, default: str, **values: Any) -> str:
    """The setting's text (the built-in one when empty) with ``{name}`` filled."""
    template = str(settings.get(key) or "").strip() or default
    for k, v in values.items():
        template = template.replace("{" + k + "}", str(v))
    return template


def _positive(value: Any) -> int | None:
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def reorder_days(settings: Mapping[str, Any], company: Mapping[str, Any], schema: Any) -> int:
    """The client's reorder interval in days (see the module docstring for the order)."""
    return reorder_interval_of(settings, company, schema)[0]


def _business_base(settings: Mapping[str, Any], company: Mapping[str, Any], schema: Any):
    business = company.get(BUSINESS)
    table = settings.get("reorder_days_by_business") or {}
    for option in BUSINESS_TYPES:
        try:
            matches = str(schema.enum_id(BUSINESS, option.code, entity="company")) == str(business)
        except KeyError:
            continue
        if matches and isinstance(table, dict) and _positive(table.get(option.code)):
            return option.label.ru, _positive(table[option.code])
    return None, DEFAULT_DAYS


def _factor(table: Any, value: Any) -> tuple[Decimal, str | None]:
    """The factor of the first table key that is part of ``value`` (normalised)."""
    text = normalise_text(value)
    if not text or not isinstance(table, Mapping):
        return Decimal(1), None
    for key, factor in table.items():
        if normalise_text(key) and normalise_text(key) in text:
            try:
                number = Decimal(str(factor))
            except ArithmeticError:
                continue
            if number > 0:
                return number, str(key)
    return Decimal(1), None


def _volume(value: Any) -> Decimal | None:
    try:
        return parse_number(value, "объём заказа")
    except ValueProblem:
        return None


def reorder_interval_of(
    settings: Mapping[str, Any], company: Mapping[str, Any], schema: Any
) -> tuple[int, str]:
    """(days, Russian explanation) of the client's reorder interval."""
    own = _positive(company.get(REORDER_DAYS))
    if own:
        return own, "задан вручную в карточке компании"
    label, base = _business_base(settings, company, schema)
    parts = [f"тип «{label}»: {base} дн." if label else f"по умолчанию {base} дн."]
    value = Decimal(base)
    volume = _volume(company.get(VOLUME))
    if volume is not None:
        bands = [f for minimum, f in sorted(ReorderSettings().volume_bands) if volume >= minimum]
        factor = bands[-1] if bands else Decimal(1)
        value *= factor
        parts.append(f"объём {volume}: ×{factor}")
    for setting, field, name in (
        ("reorder_geo_factors", GEO, "география"),
        ("reorder_audience_factors", AUDIENCE, "аудитория"),
    ):
        factor, key = _factor(settings.get(setting), company.get(field))
        if key is not None:
            value *= factor
            parts.append(f"{name} «{key}»: ×{factor}")
    days = max(1, int(value.quantize(Decimal(1), ROUND_HALF_UP)))
    return days, "; ".join(parts)


def show_interval(ctx: RuleContext) -> list[A.Action]:
    """The company card shows the interval the app will plan with."""
    company = ctx.record or {}
    days, _why = reorder_interval_of(ctx.settings, company, ctx.schema)
    if _positive(company.get(SHOWN)) == days:
        return []
    return [A.UpdateFields("company", ctx.change.record_id, {SHOWN: days}, key="interval")]


def after_sale(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    who = record.get(RESPONSIBLE_FIELD)
    if not who or stage_gate.blocked(ctx):
        return []  # a win the stage gate sends back is no sale
    raw_company = ctx.related.get("company")
    company = normalize("company", raw_company, ctx.schema) if raw_company else {}
    days, why = reorder_interval_of(ctx.settings, company, ctx.schema)
    due = work_calendar(ctx.settings).next_working_moment(ctx.now + timedelta(days=days))
    name = company.get("title") or record.get("title") or f"#{ctx.change.record_id}"
    fields: dict[str, Any] = {
        "title": f"Дозаказ: {name}",
        "categoryId": ctx.schema.category(REPEAT_PIPELINE),
        "stageId": PLANNED,
        RESPONSIBLE_FIELD: int(who),
    }
    for link in ("companyId", "contactId"):
        if record.get(link):
            fields[link] = record[link]
    return [
        A.CreateRecord("deal", fields, ref="repeat", key="repeat_deal"),
        A.CreateTodo(
            ("deal", A.Ref("repeat")),
            _text(ctx.settings, "reorder_todo_text", REORDER_TODO, name=name),
            due,
            responsible_id=int(who),
            description=f"Прошло {days} дн. с поставки — пора предложить дозаказ ({why}).",
            key="reorder_todo",
        ),
    ]


def after_loss(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    who = record.get(RESPONSIBLE_FIELD)
    if not who:
        return []
    hours = timedelta(hours=float(ctx.settings.get("default_followup_hours") or 24))
    due = work_calendar(ctx.settings).next_working_moment(ctx.now + hours)
    rid = ctx.change.record_id
    return [
        A.CreateTodo(
            ("deal", rid),
            _text(
                ctx.settings, "why_lost_todo_text", WHY_LOST_TODO, name=record.get("title") or rid
            ),
            due,
            responsible_id=int(who),
            description="Позвонить клиенту, узнать причину и записать её в сделку.",
            key="why_lost",
        )
    ]


_CARD_FIELDS = (REORDER_DAYS, BUSINESS, VOLUME, GEO, AUDIENCE, SHOWN)
RULES = [
    Rule("reorder_on_card", "company", on_field_changed(*_CARD_FIELDS), show_interval),
    Rule("reorder_on_new_card", "company", on_created(), show_interval),
    Rule("repeat_after_sale", "deal", on_stage_entered(*SOLD), after_sale, needs=("company",)),
    Rule("lost_find_out_why", "deal", on_stage_entered(*LOST), after_loss),
]
