"""Metal: Area = Length × Width (lead, deal), tonnage on deals, titles from the template.

New leads and deals get their area and title in the same pass as routing and the Object
check (one batch). The area is recomputed whenever Length or Width changes; the title only
on creation (a manager may retitle the card by hand afterwards).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from app.domain.area import ValueProblem, area_if_complete
from app.domain.templates import TemplateError, compile_template, render
from app.objects.keys import code
from app.robots.labels import enum_labels
from app.robots.title_by_template import aliases
from app.rules import actions as A
from app.rules.model import Rule, RuleContext, on_created, on_field_changed

# Standard CRM sources (crm.status SOURCE); a portal's own sources show their id.
SOURCES = {
    "WEBFORM": "Веб-форма",
    "EMAIL": "Электронная почта",
    "CALL": "Звонок",
    "WEB": "Сайт",
    "ADVERTISING": "Реклама",
    "PARTNER": "Партнёр",
    "RECOMMENDATION": "Рекомендация",
    "TRADE_SHOW": "Выставка",
    "OTHER": "Другое",
}


def computed(record: Mapping[str, Any], entity: str, settings: Mapping[str, Any]) -> dict:
    """Area (and a deal's tonnage) the record should hold; {} when unknown or unchanged."""
    try:
        area = area_if_complete(
            record.get(code(entity, "LENGTH")), record.get(code(entity, "WIDTH"))
        )
    except ValueProblem:
        return {}
    if area is None:
        return {}
    out: dict[str, Any] = {}
    value = float(area.area_m2)
    if _num(record.get(code(entity, "AREA"))) != value:
        out[code(entity, "AREA")] = value
    if entity == "deal":
        density = Decimal(str(settings.get("steel_density_t_per_m2") or 0))
        if density > 0:
            tonnage = float((area.area_m2 * density).quantize(Decimal("0.001")))
            if _num(record.get("UF_CRM_MT_TONNAGE")) != tonnage:
                out["UF_CRM_MT_TONNAGE"] = tonnage
    return out


def _num(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def title_for(ctx: RuleContext, record: Mapping[str, Any]) -> str | None:
    """The title the template gives ``record`` (None: no template, or nothing to show)."""
    text = str(ctx.settings.get("title_template") or "").strip()
    if not text:
        return None
    entity = ctx.change.entity
    names = aliases(record)
    try:
        compiled = compile_template(text, set(record) | set(names))
    except TemplateError:
        return None  # a broken template is reported by the settings check, not per lead
    labels = enum_labels(ctx.schema, ("metal",), entity)
    values: dict[str, Any] = {}
    for field in compiled.fields:
        key = names.get(field, field)
        value = record.get(key)
        if key == "sourceId" and value:
            value = SOURCES.get(str(value), value)
        elif key in labels and value not in (None, ""):
            value = labels[key].get(str(value), value)
        values[field] = value
    return render(compiled, values) or None


def fill_new(ctx: RuleContext) -> list[A.Action]:
    """Area and title of a new lead/deal, one UpdateFields."""
    record = dict(ctx.record or {})
    fields = computed(record, ctx.change.entity, ctx.settings)
    record.update(fields)
    title = title_for(ctx, record)
    if title and title != record.get("title"):
        fields["title"] = title
    if not fields:
        return []
    return [A.UpdateFields(ctx.change.entity, ctx.change.record_id, fields, key="fill")]


def recompute(ctx: RuleContext) -> list[A.Action]:
    fields = computed(ctx.record or {}, ctx.change.entity, ctx.settings)
    if not fields:
        return []
    return [A.UpdateFields(ctx.change.entity, ctx.change.record_id, fields, key="area")]


def _dims(entity: str) -> tuple[str, ...]:
    return (code(entity, "LENGTH"), code(entity, "WIDTH"))


RULES = [
    Rule("lead_fill_new", "lead", on_created(), fill_new),
    Rule("lead_area", "lead", on_field_changed(*_dims("lead")), recompute),
    Rule("deal_fill_new", "deal", on_created(), fill_new),
    Rule("deal_area", "deal", on_field_changed(*_dims("deal")), recompute),
]
