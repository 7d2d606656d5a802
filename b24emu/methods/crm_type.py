"""``crm.type.*``: smart-process types (``{"type": …}``, flags as ``"Y"``/``"N"``)."""

from __future__ import annotations

from typing import Any

from b24emu import listing
from b24emu.crm import dates
from b24emu.crm.errors import CrmError
from b24emu.crm.types import FLAGS
from b24emu.methods.crm_common import (
    crm,
    d7_error,
    dict_param,
    field_description,
    int_param,
)
from b24emu.registry import Call, ListPage, RestError, method


def render(call: Call, row: dict[str, Any]) -> dict[str, Any]:
    offset = call.portal.timezone_offset
    out = {
        key: row[key]
        for key in ("id", "title", "code", "createdBy", "entityTypeId", "customSectionId")
    }
    out.update({flag: row[flag] for flag in FLAGS})
    out.update(
        createdTime=dates.iso(row["createdTime"], offset),
        updatedTime=dates.iso(row["updatedTime"], offset),
        updatedBy=row["updatedBy"],
        relations={
            "parent": crm(call).types.parents(row),
            "child": [dict(r) for r in row["relations"]["child"]],
        },
        linkedUserFields=dict(row["linkedUserFields"]),
        customSections=[],
    )
    return out


def _fields(call: Call) -> dict[str, Any]:
    fields = call.param("fields")
    if not isinstance(fields, dict) or not fields:
        raise RestError("100", "Could not find value for parameter {fields}")
    return fields


@method("crm.type.add", scope="crm")
def type_add(call: Call) -> dict[str, Any]:
    try:
        return {"type": render(call, crm(call).add_type(_fields(call), call.auth.user_id))}
    except CrmError as exc:
        raise d7_error(exc) from None


@method("crm.type.update", scope="crm")
def type_update(call: Call) -> dict[str, Any]:
    type_id = int_param(call, "id")
    fields = dict(_fields(call))
    fields.pop("entityTypeId", None)  # immutable
    try:
        return {"type": render(call, crm(call).update_type(type_id, fields, call.auth.user_id))}
    except CrmError as exc:
        raise d7_error(exc) from None


@method("crm.type.get", scope="crm")
def type_get(call: Call) -> dict[str, Any]:
    try:
        return {"type": render(call, crm(call).types.get(int_param(call, "id")))}
    except CrmError as exc:
        raise d7_error(exc) from None


@method("crm.type.getByEntityTypeId", scope="crm")
def type_get_by_etid(call: Call) -> dict[str, Any]:
    row = crm(call).types.by_etid(int_param(call, "entityTypeId"))
    if row is None:
        raise RestError("NOT_FOUND", "Smart process not found")
    return {"type": render(call, row)}


@method("crm.type.list", scope="crm")
def type_list(call: Call) -> ListPage:
    rows = [render(call, r) for r in sorted(crm(call).types.by_id.values(), key=lambda r: r["id"])]
    rows = listing.filter_rows(rows, dict_param(call, "filter"), allow_or=True)
    rows = listing.order_rows(rows, dict_param(call, "order"))
    page = listing.page(rows, call.param("start"))
    page.result = {"types": page.result}
    return page


@method("crm.type.delete", scope="crm")
def type_delete(call: Call) -> list[Any]:
    try:
        crm(call).delete_type(int_param(call, "id"), call.auth.user_id)
    except CrmError as exc:
        raise d7_error(exc) from None
    return []


@method("crm.type.fields", scope="crm")
def type_fields(call: Call) -> dict[str, Any]:
    names = {
        "id": "integer",
        "title": "string",
        "code": "string",
        "createdBy": "user",
        "entityTypeId": "integer",
        "createdTime": "datetime",
        "updatedTime": "datetime",
        "updatedBy": "user",
        "relations": "relations",
        "linkedUserFields": "linkedUserFields",
    }
    names.update({flag: "boolean" for flag in FLAGS})
    out = {}
    for name, kind in names.items():
        desc = field_description(
            kind,
            readonly=name in ("id", "createdBy", "createdTime", "updatedTime", "updatedBy"),
            multiple=False,
            title=name,
            required=name == "title",
            immutable=name == "entityTypeId",
        )
        out[name] = desc
    return {"fields": out}
