"""``crm.category.*``: pipelines of deals, contacts, companies and smart processes."""

from __future__ import annotations

from typing import Any

from b24emu import listing
from b24emu.crm.errors import CrmError
from b24emu.methods.crm_common import crm, d7_error, field_description, int_param
from b24emu.registry import Call, ListPage, RestError, method


def _etid(call: Call) -> int:
    etid = int_param(call, "entityTypeId")
    try:
        crm(call).check_category_type(etid)
    except CrmError as exc:
        raise d7_error(exc) from None
    return etid


def render(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    if row["id"] == 0:  # the built-in default pipeline carries no origin keys
        out.pop("originId", None)
        out.pop("originatorId", None)
    return out


@method("crm.category.list", scope="crm")
def category_list(call: Call) -> ListPage:
    rows = crm(call).categories.list(_etid(call))
    page = listing.page(rows, call.param("start"))
    page.result = {"categories": [render(r) for r in page.result]}
    return page


@method("crm.category.get", scope="crm")
def category_get(call: Call) -> dict[str, Any]:
    etid = _etid(call)
    try:
        return {"category": render(crm(call).categories.get(etid, int_param(call, "id")))}
    except CrmError as exc:
        raise d7_error(exc) from None


@method("crm.category.add", scope="crm")
def category_add(call: Call) -> dict[str, Any]:
    etid = _etid(call)
    fields = call.param("fields")
    if not isinstance(fields, dict):
        raise RestError("100", "Could not find value for parameter {fields}")
    try:
        return {"category": render(crm(call).add_category(etid, fields))}
    except CrmError as exc:
        raise d7_error(exc) from None


@method("crm.category.update", scope="crm")
def category_update(call: Call) -> dict[str, Any]:
    etid = _etid(call)
    fields = call.param("fields")
    if not isinstance(fields, dict):
        raise RestError("100", "Could not find value for parameter {fields}")
    try:
        return {
            "category": render(crm(call).categories.update(etid, int_param(call, "id"), fields))
        }
    except CrmError as exc:
        raise d7_error(exc) from None


@method("crm.category.delete", scope="crm")
def category_delete(call: Call) -> None:
    etid = _etid(call)
    try:
        crm(call).delete_category(etid, int_param(call, "id"))
    except CrmError as exc:
        raise d7_error(exc) from None
    return None


@method("crm.category.fields", scope="crm")
def category_fields(call: Call) -> dict[str, Any]:
    _etid(call)
    spec = {
        "id": "integer",
        "name": "string",
        "sort": "integer",
        "entityTypeId": "integer",
        "isDefault": "boolean",
        "originId": "string",
        "originatorId": "string",
    }
    out = {}
    for name, kind in spec.items():
        desc = field_description(
            kind,
            readonly=name in ("id", "entityTypeId"),
            multiple=False,
            title=name,
            required=name == "name",
            immutable=name == "entityTypeId",
        )
        desc["upperName"] = {
            "isDefault": "IS_DEFAULT",
            "entityTypeId": "ENTITY_TYPE_ID",
            "originId": "ORIGIN_ID",
            "originatorId": "ORIGINATOR_ID",
        }.get(name, name.upper())
        out[name] = desc
    return {"fields": out}
