"""Deprecated ``crm.dealcategory.*`` (deal pipelines, legacy envelope) over the same pipelines
as ``crm.category.*`` with ``entityTypeId=2``."""

from __future__ import annotations

from typing import Any

from b24emu import listing
from b24emu.crm.errors import CrmError
from b24emu.crm.schema import DEAL
from b24emu.crm.statuses import entity_id_for
from b24emu.methods.crm_common import crm, dict_param, field_description
from b24emu.registry import Call, ListPage, RestError, method


def render(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "ID": str(row["id"]),
        "CREATED_DATE": "",
        "NAME": row["name"],
        "IS_LOCKED": "N",
        "SORT": str(row["sort"]),
    }


def _id(call: Call, *, allow_default: bool = False) -> int:
    try:
        value = int(call.param("id"))
    except (TypeError, ValueError):
        raise RestError("", "ID is not defined or invalid.") from None
    if value < 0 or (value == 0 and not allow_default):
        raise RestError("", "ID is not defined or invalid.")
    if not crm(call).categories.exists(DEAL, value):
        raise RestError("", "Not found")
    return value


@method("crm.dealcategory.add", scope="crm")
def add(call: Call) -> int:
    fields = call.param("fields") or {}
    if not isinstance(fields, dict) or not str(fields.get("NAME") or "").strip():
        raise RestError("", "The field NAME is required.")
    return crm(call).add_category(
        DEAL, {"name": fields["NAME"], "sort": fields.get("SORT") or 500}
    )["id"]


@method("crm.dealcategory.update", scope="crm")
def update(call: Call) -> bool:
    category_id = _id(call)
    fields = call.param("fields") or {}
    changes = {k: fields[u] for k, u in (("name", "NAME"), ("sort", "SORT")) if u in fields}
    try:
        crm(call).categories.update(DEAL, category_id, changes)
    except CrmError as exc:
        raise RestError("", exc.message) from None
    return True


@method("crm.dealcategory.delete", scope="crm")
def delete(call: Call) -> bool:
    try:
        crm(call).delete_category(DEAL, _id(call))
    except CrmError as exc:
        raise RestError("", exc.message) from None
    return True


@method("crm.dealcategory.get", scope="crm")
def get(call: Call) -> dict[str, Any]:
    return render(crm(call).categories.get(DEAL, _id(call)))


@method("crm.dealcategory.list", scope="crm")
def list_(call: Call) -> ListPage:
    rows = [render(r) for r in crm(call).categories.list(DEAL) if r["id"] != 0]
    rows = listing.filter_rows(rows, dict_param(call, "filter"))
    rows = listing.order_rows(rows, dict_param(call, "order", {"SORT": "ASC"}))
    return listing.page(rows, call.param("start"))


@method("crm.dealcategory.fields", scope="crm")
def fields(call: Call) -> dict[str, Any]:
    spec = {
        "ID": "integer",
        "CREATED_DATE": "date",
        "NAME": "string",
        "IS_LOCKED": "char",
        "SORT": "integer",
    }
    return {
        k: field_description(
            v,
            readonly=k in ("ID", "CREATED_DATE", "IS_LOCKED"),
            multiple=False,
            title=k,
            required=k == "NAME",
        )
        for k, v in spec.items()
    }


@method("crm.dealcategory.stage.list", scope="crm")
def stage_list(call: Call) -> list[dict[str, Any]]:
    category_id = _id(call, allow_default=True)
    rows = crm(call).statuses.list_of(entity_id_for(DEAL, category_id))
    return [{"NAME": r["NAME"], "SORT": str(r["SORT"]), "STATUS_ID": r["STATUS_ID"]} for r in rows]


@method("crm.dealcategory.status", scope="crm")
def status(call: Call) -> str:
    return entity_id_for(DEAL, _id(call, allow_default=True))


@method("crm.dealcategory.default.get", scope="crm")
def default_get(call: Call) -> dict[str, Any]:
    row = crm(call).categories.get(DEAL, 0)
    return {"ID": 0, "NAME": row["name"]}


@method("crm.dealcategory.default.set", scope="crm")
def default_set(call: Call) -> bool:
    name = str(call.param("NAME") or "").strip()
    if not name:
        raise RestError("", "The field NAME is required.")
    crm(call).categories.update(DEAL, 0, {"name": name})
    return True
