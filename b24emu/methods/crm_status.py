"""``crm.status.*``: stage and reference lists (legacy envelope: ``error: ""``)."""

from __future__ import annotations

import re
from typing import Any

from b24emu import listing
from b24emu.crm.schema import DEAL, LEAD
from b24emu.crm.statuses import StatusError, is_stage_list
from b24emu.methods.crm_common import crm, dict_param, field_description, is_yes
from b24emu.registry import Call, ListPage, RestError, method

_ENTITY_NAMES = {
    "STATUS": "Lead stages",
    "SOURCE": "Sources",
    "CONTACT_TYPE": "Contact type",
    "COMPANY_TYPE": "Company type",
    "EMPLOYEES": "Employees",
    "INDUSTRY": "Industry",
    "DEAL_TYPE": "Deal type",
    "HONORIFIC": "Salutations",
}


# "The method adds the EXTRA object only for leads, deals, and quotes" — smart processes and
# invoices carry SEMANTICS alone (tutorials/crm/how-to-get-lists/how-to-get-stages-with-semantics.md)
_EXTRA_LISTS = re.compile(r"^(STATUS|DEAL_STAGE(_\d+)?|QUOTE_STATUS)$")


def render(row: dict[str, Any]) -> dict[str, Any]:
    out = {
        "ID": str(row["ID"]),
        "ENTITY_ID": row["ENTITY_ID"],
        "STATUS_ID": row["STATUS_ID"],
        "NAME": row["NAME"],
        "NAME_INIT": row["NAME_INIT"],
        "SORT": str(row["SORT"]),
        "SYSTEM": row["SYSTEM"],
        "CATEGORY_ID": None if row["CATEGORY_ID"] is None else str(row["CATEGORY_ID"]),
        "COLOR": row["COLOR"],
        "SEMANTICS": row["SEMANTICS"],
    }
    if row["EXTRA_SEMANTICS"] and _EXTRA_LISTS.match(row["ENTITY_ID"]):
        out["EXTRA"] = {"SEMANTICS": row["EXTRA_SEMANTICS"], "COLOR": row["COLOR"]}
    return out


def owner_of(entity_id: str) -> tuple[int | None, int | None, str]:
    """(ETID, category id, stage prefix) of a stage list; (None, None, "") otherwise."""
    if entity_id == "STATUS":
        return LEAD, None, ""
    if entity_id == "DEAL_STAGE":
        return DEAL, 0, ""
    m = re.match(r"^DEAL_STAGE_(\d+)$", entity_id)
    if m:
        return DEAL, int(m.group(1)), f"C{m.group(1)}:"
    m = re.match(r"^(?:DYNAMIC_(\d+)|SMART_INVOICE)_STAGE_(\d+)$", entity_id)
    if m:
        etid = int(m.group(1) or 31)
        return etid, int(m.group(2)), f"DT{etid}_{m.group(2)}:"
    return None, None, ""


def _row(call: Call) -> dict[str, Any]:
    try:
        row_id = int(call.param("id"))
    except (TypeError, ValueError):
        raise RestError("", "ID is not defined or invalid.") from None
    row = crm(call).statuses.rows.get(row_id)
    if row is None:
        raise RestError("", "Not found")
    return row


@method("crm.status.list", scope="crm")
def status_list(call: Call) -> ListPage:
    rows = sorted(crm(call).statuses.rows.values(), key=lambda r: r["ID"])
    rows = listing.filter_rows(rows, dict_param(call, "filter"))
    rows = listing.order_rows(rows, dict_param(call, "order", {"SORT": "ASC"}))
    page = listing.page(rows, call.param("start"))
    page.result = [render(r) for r in page.result]
    page.next = None if page.next is None else page.next
    return page


@method("crm.status.get", scope="crm")
def status_get(call: Call) -> dict[str, Any]:
    return render(_row(call))


@method("crm.status.add", scope="crm")
def status_add(call: Call) -> int:
    fields = call.param("fields") or {}
    if not isinstance(fields, dict):
        raise RestError("", "The parameter 'fields' must be array.")
    for key in ("ENTITY_ID", "STATUS_ID", "NAME"):
        if not str(fields.get(key) or "").strip():
            raise RestError("", f"The field {key} is required.")
    statuses = crm(call).statuses
    entity_id = str(fields["ENTITY_ID"])
    if entity_id not in statuses.entity_ids():
        raise RestError("", "The field ENTITY_ID is not valid.")
    etid, category_id, prefix = owner_of(entity_id)
    semantics = str(fields.get("SEMANTICS") or "").upper() or None
    if semantics not in (None, "S", "F"):
        raise RestError("", "The field SEMANTICS is not valid.")
    try:
        row = statuses.add(
            entity_id,
            str(fields["STATUS_ID"]).strip(),
            str(fields["NAME"]),
            int(fields.get("SORT") or 10),
            fields.get("COLOR"),
            semantics if is_stage_list(entity_id) else None,
            category_id if etid != LEAD else None,
            prefix,
        )
    except StatusError as exc:
        raise RestError(exc.code, str(exc)) from None
    return row["ID"]


@method("crm.status.update", scope="crm")
def status_update(call: Call) -> bool:
    row = _row(call)
    fields = call.param("fields") or {}
    if not isinstance(fields, dict):
        raise RestError("", "The parameter 'fields' must be array.")
    crm(call).statuses.update(row["ID"], fields)
    return True


@method("crm.status.delete", scope="crm")
def status_delete(call: Call) -> bool:
    row = _row(call)
    params = call.param("params") or {}
    etid, _, _ = owner_of(row["ENTITY_ID"])
    if etid is not None and crm(call).stage_in_use(etid, row["STATUS_ID"]):
        raise RestError("", "There are active items in this status.")
    try:
        crm(call).statuses.delete(
            row["ID"], is_yes(params.get("FORCED", "N")) if isinstance(params, dict) else False
        )
    except StatusError as exc:
        raise RestError(exc.code, str(exc)) from None
    return True


@method("crm.status.fields", scope="crm")
def status_fields(call: Call) -> dict[str, Any]:
    spec = {
        "ID": ("integer", True, True),
        "ENTITY_ID": ("string", False, True),
        "STATUS_ID": ("string", False, True),
        "NAME": ("string", False, False),
        "NAME_INIT": ("string", True, False),
        "SORT": ("integer", False, False),
        "SYSTEM": ("char", True, False),
        "CATEGORY_ID": ("integer", False, True),
        "COLOR": ("string", False, False),
        "SEMANTICS": ("string", False, True),
        "EXTRA": ("object", False, False),
    }
    return {
        name: field_description(
            kind,
            readonly=ro,
            multiple=False,
            title=name,
            immutable=imm,
            required=name in ("ENTITY_ID", "STATUS_ID", "NAME"),
        )
        for name, (kind, ro, imm) in spec.items()
    }


@method("crm.status.entity.types", scope="crm")
def status_entity_types(call: Call) -> list[dict[str, Any]]:
    store = crm(call)
    out: list[dict[str, Any]] = []
    for entity_id in store.statuses.entity_ids():
        etid, category_id, prefix = owner_of(entity_id)
        entry: dict[str, Any] = {"ID": entity_id, "NAME": _ENTITY_NAMES.get(entity_id, entity_id)}
        if etid is not None:
            rows = store.statuses.list_of(entity_id)
            semantic = {
                "START_FIELD": rows[0]["STATUS_ID"] if rows else "",
                "FINAL_SUCCESS_FIELD": next(
                    (r["STATUS_ID"] for r in rows if r["SEMANTICS"] == "S"), ""
                ),
                "FINAL_UNSUCCESS_FIELD": next(
                    (r["STATUS_ID"] for r in rows if r["SEMANTICS"] == "F"), ""
                ),
                "FINAL_SORT": 0,
            }
            entry.update(SEMANTIC_INFO=semantic, ENTITY_TYPE_ID=etid)
            if etid != LEAD:
                category = store.categories.by_type.get(etid, {}).get(category_id or 0, {})
                entry.update(
                    PREFIX=prefix.rstrip(":"),
                    FIELD_ATTRIBUTE_SCOPE=f"category_{category_id}" if category_id else "",
                    CATEGORY_ID=category_id,
                )
                if etid == DEAL:
                    entry["NAME"] = (
                        "General deal stages"
                        if not category_id
                        else f"{category.get('name', '')} deal stages"
                    )
                    if category_id:
                        entry["PARENT_ID"] = "DEAL_STAGE"
                else:
                    smart = store.types.by_etid(etid) or {"title": "Invoice" if etid == 31 else ""}
                    entry.update(
                        NAME=f"{smart.get('title', '')} ({category.get('name', '')})",
                        IS_ENABLED=True,
                        CATEGORY_NAME=category.get("name"),
                        CATEGORY_SORT=category.get("sort"),
                        IS_DEFAULT_CATEGORY=category.get("isDefault") == "Y",
                    )
        out.append(entry)
    return out


@method("crm.status.entity.items", scope="crm")
def status_entity_items(call: Call) -> list[dict[str, Any]]:
    entity_id = call.param("entityId")
    if not entity_id:
        raise RestError("", "The parameter entityId is required.")
    return [
        {"NAME": r["NAME"], "SORT": r["SORT"], "STATUS_ID": r["STATUS_ID"]}
        for r in crm(call).statuses.list_of(str(entity_id))
    ]
