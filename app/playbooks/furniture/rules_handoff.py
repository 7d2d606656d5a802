"""Furniture (spec §2 lead rule 2): the hand-off to the store in the client's city.

When the online consultant learns the client will come (fills «Дата визита» while the lead
is «Новый лид», with «Город клиента»), the lead goes to the administrator of that city's
store (setting ``city_admins``: city → user id; matched without case, spaces or ё/е
differences). The store escalation starts for the administrator at once — our own write
does not come back to the rules as a responsible change. A city with no administrator in
the table leaves the lead with the consultant, who is told so (and the timeline says it).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from app.playbooks.furniture.rules_timers import LEAD_NEW, start_escalation
from app.rules import actions as A
from app.rules.model import RESPONSIBLE_FIELD, STAGE_FIELD, Rule, RuleContext, on_field_changed

CITY, VISIT = "UF_CRM_FR_CITY", "UF_CRM_FR_VISIT_DATE"


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
        text = (
            f"Лид «{record.get('title') or rid}»: нет администратора магазина для города "
            f"«{record.get(CITY)}» — передайте лид вручную или дополните таблицу городов."
        )
        out: list[A.Action] = [A.TimelineComment("lead", rid, text, key="no_admin")]
        if current:
            out.append(A.Notify((int(current),), text, key="no_admin"))
        return out
    if current and int(current) == admin:
        return []
    handed = replace(ctx, record={**record, RESPONSIBLE_FIELD: admin})
    text = f"Клиент придёт в магазин: лид передан администратору (город «{record.get(CITY)}»)."
    return [
        A.UpdateFields("lead", rid, {RESPONSIBLE_FIELD: admin}, key="handoff"),
        A.TimelineComment("lead", rid, text, key="handoff_note"),
        *start_escalation(handed),
    ]


RULES = [Rule("store_handoff", "lead", on_field_changed(VISIT, CITY), hand_off)]
