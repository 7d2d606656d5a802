"""Duplicates, timeline comments, settings mode and the owner-type enum."""

from __future__ import annotations

import re
from typing import Any

from b24emu import listing
from b24emu.crm import dates
from b24emu.crm.errors import CrmError
from b24emu.crm.schema import ABBR, COMPANY, CONTACT, LEAD, TYPE_NAMES
from b24emu.methods.crm_common import crm, dict_param
from b24emu.registry import Call, ListPage, RestError, method

_DUP_TYPES = {"LEAD": LEAD, "CONTACT": CONTACT, "COMPANY": COMPANY}
MAX_DUP_VALUES = 20


@method("crm.duplicate.findbycomm", scope="crm")
def duplicate_findbycomm(call: Call) -> Any:
    comm_type = str(call.param("type") or "").upper()
    if not comm_type:
        raise RestError("", "Communication type is not defined")
    if comm_type not in ("EMAIL", "PHONE"):
        raise RestError("", f"Communication type '{comm_type}' is not supported in current context")
    values = call.param("values")
    values = list(values.values()) if isinstance(values, dict) else values
    if not values or not isinstance(values, list):
        raise RestError("", "Communication values is not defined")
    if len(values) > MAX_DUP_VALUES:
        raise RestError("", f"Communication values count must not exceed {MAX_DUP_VALUES}")
    wanted = str(call.param("entity_type") or "").upper()
    kinds = [wanted] if wanted in _DUP_TYPES else list(_DUP_TYPES)
    store = crm(call)
    result: dict[str, list[int]] = {}
    for kind in kinds:
        ids: set[int] = set()
        for value in values:
            ids |= {
                item_id
                for etid, item_id in store.comms.find(comm_type, str(value))
                if etid == _DUP_TYPES[kind]
            }
        if ids:
            result[kind] = sorted(ids)
            if len(ids) >= MAX_DUP_VALUES:
                break  # the portal stops looking at later types once one is full
    return result or []


def owner_type(store: Any, name: str) -> int | None:
    """``deal`` → 2, ``dynamic_1030`` → 1030 (timeline ENTITY_TYPE values)."""
    name = str(name).lower()
    for etid, type_name in TYPE_NAMES.items():
        if type_name.lower() == name:
            return etid
    m = re.match(r"^dynamic_(\d+)$", name)
    if m and store.types.by_etid(int(m.group(1))):
        return int(m.group(1))
    return None


@method("crm.timeline.comment.add", scope="crm")
def timeline_comment_add(call: Call) -> int:
    fields = call.param("fields") or {}
    if not isinstance(fields, dict):
        raise RestError("", "Parameter 'fields' must be array.")
    store = crm(call)
    etid = owner_type(store, fields.get("ENTITY_TYPE") or "")
    try:
        owner_id = int(fields.get("ENTITY_ID") or 0)
    except (TypeError, ValueError):
        owner_id = 0
    if etid is None or owner_id <= 0:
        raise RestError("OWNER_NOT_FOUND", "Owner entity not found")
    comment = str(fields.get("COMMENT") or "").strip()
    if not comment:
        raise RestError("INVALID_ARG_VALUE", "Comment text is empty")
    try:
        return store.add_comment(etid, owner_id, comment, call.auth.user_id, fields.get("FILES"))[
            "ID"
        ]
    except CrmError as exc:
        raise RestError(exc.code, exc.message) from None


def render_comment(call: Call, row: dict[str, Any]) -> dict[str, Any]:
    etid = row["ENTITY_TYPE_ID"]
    type_name = TYPE_NAMES.get(etid, f"DYNAMIC_{etid}").lower()
    return {
        "ID": str(row["ID"]),
        "CREATED": dates.iso(row["CREATED"], call.portal.timezone_offset),
        "ENTITY_ID": str(row["ENTITY_ID"]),
        "ENTITY_TYPE": type_name,
        "AUTHOR_ID": str(row["AUTHOR_ID"]),
        "COMMENT": row["COMMENT"],
        "FILES": row["FILES"],
    }


@method("crm.timeline.comment.list", scope="crm")
def timeline_comment_list(call: Call) -> ListPage:
    rows = [render_comment(call, r) for r in crm(call).comments.values()]
    flt = dict_param(call, "filter")
    if "ENTITY_TYPE" in flt:
        flt["ENTITY_TYPE"] = str(flt["ENTITY_TYPE"]).lower()
    rows = listing.order_rows(
        listing.filter_rows(rows, flt), dict_param(call, "order", {"ID": "DESC"})
    )
    return listing.page(rows, call.param("start"))


def _comment_id(call: Call) -> int:
    try:
        return int(call.param("id"))
    except (TypeError, ValueError):
        raise RestError("NOT_FOUND", "Comment not found") from None


@method("crm.timeline.comment.get", scope="crm")
def timeline_comment_get(call: Call) -> dict[str, Any]:
    try:
        return render_comment(call, crm(call).get_comment(_comment_id(call)))
    except CrmError as exc:
        raise RestError(exc.code, exc.message) from None


@method("crm.timeline.comment.update", scope="crm")
def timeline_comment_update(call: Call) -> int:
    fields = call.param("fields") or {}
    comment = str(fields.get("COMMENT") or "").strip() if isinstance(fields, dict) else ""
    if not comment:
        raise RestError("INVALID_ARG_VALUE", "Comment text is empty")
    try:
        return crm(call).update_comment(_comment_id(call), comment, call.auth.user_id)["ID"]
    except CrmError as exc:
        raise RestError(exc.code, exc.message) from None


@method("crm.timeline.comment.delete", scope="crm")
def timeline_comment_delete(call: Call) -> None:
    try:
        crm(call).delete_comment(_comment_id(call), call.auth.user_id)
    except CrmError as exc:
        raise RestError(exc.code, exc.message) from None
    return None


@method("crm.settings.mode.get", scope="crm")
def settings_mode_get(call: Call) -> int:
    return crm(call).mode


@method("crm.enum.ownertype", scope="crm")
def enum_ownertype(call: Call) -> list[dict[str, Any]]:
    out = [
        {
            "ID": etid,
            "NAME": TYPE_NAMES[etid].title(),
            "SYMBOL_CODE": TYPE_NAMES[etid],
            "SYMBOL_CODE_SHORT": ABBR[etid],
        }
        for etid in TYPE_NAMES
    ]
    for row in crm(call).types.by_id.values():
        etid = row["entityTypeId"]
        out.append(
            {
                "ID": etid,
                "NAME": row["title"],
                "SYMBOL_CODE": f"DYNAMIC_{etid}",
                "SYMBOL_CODE_SHORT": f"T{etid:x}",
            }
        )
    return out
