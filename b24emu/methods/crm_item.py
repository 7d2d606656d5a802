"""``crm.item.*``: the universal D7 CRM API (camelCase, native types, ``{"item": …}``)."""

from __future__ import annotations

from typing import Any

from b24emu.crm.errors import CrmError
from b24emu.crm.query import QueryError, query
from b24emu.crm.render import render_item
from b24emu.crm.statuses import entity_id_for
from b24emu.methods.crm_common import (
    crm,
    d7_error,
    d7_param,
    field_description,
    int_param,
    is_yes,
    label_of,
    list_param,
)
from b24emu.registry import Call, ListPage, RestError, method


def _view(call: Call):
    etid = int_param(call, "entityTypeId")
    try:
        return crm(call).view(etid)
    except CrmError as exc:
        raise d7_error(exc) from None


def _original(call: Call) -> bool:
    return is_yes(call.param("useOriginalUfNames", "N"))


def _fields(call: Call) -> dict[str, Any]:
    fields = d7_param(call, "fields")
    if not isinstance(fields, dict):
        raise RestError("100", "Could not find value for parameter {fields}")
    return fields


def _out(call: Call, view, row: dict[str, Any], select: list[str] | None = None) -> dict[str, Any]:
    return render_item(
        view, row, call.portal.timezone_offset, select=select, original_uf=_original(call)
    )


@method("crm.item.add", scope="crm")
def item_add(call: Call) -> dict[str, Any]:
    view = _view(call)
    fields = _fields(call)
    try:
        row = crm(call).add_item(view.etid, fields, call.auth.user_id, original_uf=_original(call))
    except CrmError as exc:
        raise d7_error(exc) from None
    return {"item": _out(call, crm(call).view(view.etid), row)}


@method("crm.item.update", scope="crm")
def item_update(call: Call) -> dict[str, Any]:
    view = _view(call)
    item_id = int_param(call, "id")
    fields = _fields(call)
    try:
        row = crm(call).update_item(
            view.etid, item_id, fields, call.auth.user_id, original_uf=_original(call)
        )
    except CrmError as exc:
        raise d7_error(exc) from None
    return {"item": _out(call, view, row)}


@method("crm.item.get", scope="crm")
def item_get(call: Call) -> dict[str, Any]:
    view = _view(call)
    try:
        row = crm(call).get_item(view.etid, int_param(call, "id"))
    except CrmError as exc:
        raise d7_error(exc) from None
    return {"item": _out(call, view, row)}


@method("crm.item.delete", scope="crm")
def item_delete(call: Call) -> list[Any]:
    view = _view(call)
    try:
        crm(call).delete_item(view.etid, int_param(call, "id"), call.auth.user_id)
    except CrmError as exc:
        raise d7_error(exc) from None
    return []


@method("crm.item.list", scope="crm")
def item_list(call: Call) -> ListPage:
    view = _view(call)
    select = [str(name) for name in list_param(call, "select")]
    try:
        page = query(
            crm(call),
            view,
            call.param("filter"),
            call.param("order"),
            call.param("start"),
            legacy=False,
            original_uf=_original(call),
        )
    except QueryError as exc:
        raise RestError("INVALID_ARG_VALUE", str(exc)) from None
    page.result = {"items": [_out(call, view, row, select or None) for row in page.result]}
    return page


_REFERENCE_LISTS = {
    "sourceId": "SOURCE",
    "honorific": "HONORIFIC",
    "industry": "INDUSTRY",
    "employees": "EMPLOYEES",
}
_TYPE_LISTS = {2: "DEAL_TYPE", 3: "CONTACT_TYPE", 4: "COMPANY_TYPE"}


def _status_type(view, name: str, default_category: int | None) -> str | None:
    """Which ``crm.status`` list a status field takes its values from (default pipeline)."""
    if name == "stageId":
        return entity_id_for(view.etid, default_category)
    if name == "typeId":
        return _TYPE_LISTS.get(view.etid)
    return _REFERENCE_LISTS.get(name)


@method("crm.item.fields", scope="crm")
def item_fields(call: Call) -> dict[str, Any]:
    view = _view(call)
    original = _original(call)
    out: dict[str, Any] = {}
    for name, f in view.fields.items():
        desc = field_description(
            f.kind,
            readonly=f.readonly,
            multiple=f.multiple,
            title=name,
            immutable=f.immutable or name == "id",
        )
        desc["upperName"] = f.upper_name
        status_type = _status_type(view, name, crm(call).categories.default_id(view.etid))
        if f.kind == "crm_status" and status_type:
            desc["statusType"] = status_type
        out[name] = desc
    for upper, rec in view.ufs.items():
        desc = field_description(
            rec["userTypeId"],
            readonly=False,
            multiple=rec["multiple"] == "Y",
            title=label_of(rec["editFormLabel"], upper),
            required=rec["mandatory"] == "Y",
            dynamic=True,
        )
        desc["upperName"] = upper
        if rec["enum"]:
            desc["items"] = [{"ID": o["id"], "VALUE": o["value"]} for o in rec["enum"]]
        out[upper if original else view.uf_camel[upper]] = desc
    return {"fields": out}
