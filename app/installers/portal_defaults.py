"""A fresh portal's own stage lists, and whether a list is still exactly that. Pure.

A portal comes with lead statuses ``NEW, IN_PROCESS, PROCESSED, CONVERTED, JUNK`` and a
default deal pipeline ``NEW … APOLOGY``. While such a list is *untouched* — only those ids,
each still carrying a default name in some language — nobody has built a process on it, so
the installer may bring it to the playbook's stages (rename what the playbook keeps, remove
the rest) instead of slotting its stages between strangers. A default stage that holds
records is never removed; the plan says why it stays.

Names: api-reference/crm/status/crm-status-list.md and
tutorials/crm/how-to-get-lists/how-to-get-stages-with-semantics.md (English), plus the
Russian portal's names and older English ones, which the docs do not list: a default name we
do not know only makes the list count as touched — the safe side (nothing is removed).
A system row still named as created (``NAME == NAME_INIT``) is untouched in any language.
"""

from __future__ import annotations

from app.installers.plan_model import CLEANUP, Plan, Step

_LEAD = {
    "NEW": {"Not processed", "Unassigned", "Не обработан"},
    "IN_PROCESS": {"In progress", "In Progress", "В работе"},
    "PROCESSED": {"Processed", "Обработан"},
    "CONVERTED": {"Converted", "Good lead", "Качественный лид", "Сконвертирован"},
    "JUNK": {"Low-quality lead", "Junk lead", "Некачественный лид"},
}
_DEAL = {
    "NEW": {"New", "Новая"},
    "PREPARATION": {"Document preparation", "Подготовка документов"},
    "PREPAYMENT_INVOICE": {"Prepayment invoice", "Invoice", "Счёт на предоплату"},
    "EXECUTING": {"In progress", "В работе"},
    "FINAL_INVOICE": {"Final invoice", "Финальный счёт"},
    "WON": {"Deal successful", "Deal won", "Сделка успешна"},
    "LOSE": {"Deal failed", "Deal lost", "Сделка провалена"},
    "APOLOGY": {"Failure reason analysis", "Analyze failure", "Анализ причины провала"},
}
DEFAULTS: dict[str, dict[str, set[str]]] = {"STATUS": _LEAD, "DEAL_STAGE": _DEAL}
# where the records of a list live: (entityTypeId, categoryId or None)
OWNER = {"STATUS": (1, None), "DEAL_STAGE": (2, 0)}


def _untouched_row(row: dict, names: dict[str, set[str]]) -> bool:
    status_id = row.get("STATUS_ID")
    if status_id not in names:
        return False
    name = str(row.get("NAME") or "")
    initial = str(row.get("NAME_INIT") or "")
    return (bool(initial) and name == initial) or name in names[status_id]


def untouched(entity_id: str, rows: list[dict]) -> bool:
    """Only the portal's default stages of this list, none renamed."""
    names = DEFAULTS.get(entity_id)
    return bool(names and rows and all(_untouched_row(r, names) for r in rows))


def occupancy_commands(entity_id: str, rows: list[dict]) -> dict[str, tuple[str, dict]]:
    """Batch reads telling which stages of an untouched list hold records (one row each)."""
    if not untouched(entity_id, rows):
        return {}
    etid, category = OWNER[entity_id]
    out = {}
    for row in rows:
        flt: dict = {"stageId": row["STATUS_ID"]}
        if category is not None:
            flt["categoryId"] = category
        params = {"entityTypeId": etid, "filter": flt, "select": ["id"], "start": -1}
        out[f"occ:{entity_id}|{row['STATUS_ID']}"] = ("crm.item.list", params)
    return out


def remove_unused(plan: Plan, label: str, rows: list[dict], taken: set[str], occupied) -> None:
    """Delete the untouched list's defaults the playbook does not use, unless they hold
    records or are system stages (then a note): a system stage needs ``FORCED=Y``
    (crm-status-delete.md) and the portal relies on it (new leads, conversion)."""
    for row in rows:
        if row["STATUS_ID"] in taken:
            continue
        name = f"«{row.get('NAME')}» ({row['STATUS_ID']})"
        if row["STATUS_ID"] in occupied:
            plan.notes.append(
                f"{label}: the portal's default stage {name} is kept: records are in it "
                "(the playbook does not use it; move them and delete it in the CRM settings "
                "if it is not needed)"
            )
            continue
        if row.get("SYSTEM") == "Y":
            plan.notes.append(
                f"{label}: the portal's system stage {name} is kept (the playbook does not "
                "use it; the portal needs its system stages)"
            )
            continue
        params = {"id": row["ID"]}
        plan.steps.append(
            Step(
                "stage",
                "delete",
                row["STATUS_ID"],
                f"{row['STATUS_ID']} {name[: name.index(' (')]} (portal default, unused) "
                f"from {label}",
                "crm.status.delete",
                params,
                CLEANUP,
            )
        )
