"""Furniture (spec §2 lead rule 2): the hand-off to the store in the client's city.

When the online consultant learns the client will come (fills «Дата визита» while the lead
is «Новый лид», with «Город клиента»), the lead goes to the administrator of that city's
store (setting ``city_admins``: city → user id; matched without case, spaces or ё/е
differences) and the administrator is told who is coming and what for (setting
``handoff_text``: ``{title}``, ``{city}``, ``{visit}``, ``{sphere}`` — the list field «Сфера
интереса», ``{interest}`` — «Предмет интереса»). The store escalation starts for the administrator at once — our own write
does not come back to the rules as a responsible change. A city with no administrator in
the table leaves the lead with the consultant, who is told so (and the timeline says it).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from app.domain.dates import as_date
from app.playbooks.furniture.rules_timers import LEAD_NEW, start_escalation
from app.robots.labels import enum_labels
from app.rules import actions as A
from app.rules.model import RESPONSIBLE_FIELD, STAGE_FIELD, Rule, RuleContext, on_field_changed
from app.timers.steps import render

CITY, VISIT = "UF_CRM_FR_CITY", "UF_CRM_FR_VISIT_DATE"
SPHERE, INTEREST = "UF_CRM_FR_SPHERE", "UF_CRM_FR_INTEREST"


def sphere_text(ctx: RuleContext, value: Any) -> str:
    """The «Сфера интереса» values as their labels, comma-separated («—» when empty)."""
    values = value if isinstance(value, list | tuple) else [value]
    labels = enum_labels(ctx.schema, ("furniture",), "lead").get(SPHERE, {})
    names = [labels.get(str(v), str(v)) for v in values if v not in (None, "", 0, "0")]
    return ", ".join(names) or "—"


def city_key(city: Any) -> str:
    return " ".join(str(city or "").replace("ё", "е").replace("Ё", "Е").split()).casefold()


def store_admin(settings, city: Any) -> int | None:
    table = settings.get("city_admins") or {}
    if not isinstance(table, dict):
        return None
    wanted = city_key(city)
    for name, user in table.items():
        if city_key(name) == wanted and str(user).strip().isdigit():
            return int(str(user).strip())
    return None


def hand_off(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    if record.get(STAGE_FIELD) != LEAD_NEW or not record.get(VISIT) or not record.get(CITY):
        return []
    rid = ctx.change.record_id
    admin = store_admin(ctx.settings, record.get(CITY))
    current = record.get(RESPONSIBLE_FIELD)
    if admin is None:
        text = render(
            str(ctx.settings.get("no_admin_text") or ""), ctx, city=record.get(CITY)
        ).strip()
        if not text:
            return []
        out: list[A.Action] = [A.TimelineComment("lead", rid, text, key="no_admin")]
        if current:
            out.append(A.Notify((int(current),), text, key="no_admin"))
        return out
    if current and int(current) == admin:
        return []
    handed = replace(ctx, record={**record, RESPONSIBLE_FIELD: admin})
    text = f"Клиент придёт в магазин: лид передан администратору (город «{record.get(CITY)}»)."
    visit = as_date(record.get(VISIT))
    told = render(
        str(ctx.settings.get("handoff_text") or ""),
        ctx,
        city=record.get(CITY),
        visit=f"{visit:%d.%m.%Y}" if visit else str(record.get(VISIT)),
        sphere=sphere_text(ctx, record.get(SPHERE)),
        interest=str(record.get(INTEREST) or "—"),
    )
    out = [
        A.UpdateFields("lead", rid, {RESPONSIBLE_FIELD: admin}, key="handoff"),
        A.TimelineComment("lead", rid, text, key="handoff_note"),
    ]
    if told.strip():
        out.append(A.Notify((admin,), told, key="handoff_told"))
    return [*out, *start_escalation(handed)]


RULES = [Rule("store_handoff", "lead", on_field_changed(VISIT, CITY), hand_off)]
