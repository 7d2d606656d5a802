"""User fields: legacy ``crm.{lead,deal,contact,company}.userfield.*`` and ``userfieldconfig.*``.

Both write the same records; legacy prints UPPER keys with string ids and one-language labels,
``userfieldconfig`` prints camelCase with lang maps. Smart processes use ``CRM_{type.id}``
and field names ``UF_CRM_{type.id}_…``.
"""

from __future__ import annotations

from typing import Any

from b24emu import listing
from b24emu.crm import userfields as uf
from b24emu.crm.errors import CrmError
from b24emu.methods.crm_common import crm, dict_param, label_of
from b24emu.registry import Call, ListPage, RestError, method

_LEGACY_KEYS = {
    "XML_ID": "xmlId",
    "SORT": "sort",
    "MULTIPLE": "multiple",
    "MANDATORY": "mandatory",
    "SHOW_FILTER": "showFilter",
    "SHOW_IN_LIST": "showInList",
    "EDIT_IN_LIST": "editInList",
    "IS_SEARCHABLE": "isSearchable",
    "SETTINGS": "settings",
    "EDIT_FORM_LABEL": "editFormLabel",
    "LIST_COLUMN_LABEL": "listColumnLabel",
    "LIST_FILTER_LABEL": "listFilterLabel",
    "ERROR_MESSAGE": "errorMessage",
    "HELP_MESSAGE": "helpMessage",
}


def _legacy_enum(items: Any) -> list[dict[str, Any]]:
    items = list(items.values()) if isinstance(items, dict) else list(items or [])
    return [
        {
            "id": i.get("ID"),
            "value": i.get("VALUE"),
            "sort": i.get("SORT", 500),
            "def": i.get("DEF", "N"),
            "xmlId": i.get("XML_ID"),
            "del": i.get("DEL", "N"),
        }
        for i in items
        if isinstance(i, dict)
    ]


def from_legacy(fields: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {_LEGACY_KEYS[k]: v for k, v in fields.items() if k in _LEGACY_KEYS}
    if fields.get("LABEL") not in (None, ""):
        for key in ("editFormLabel", "listColumnLabel", "listFilterLabel"):
            data.setdefault(key, fields["LABEL"])
    if "LIST" in fields:
        data["enum"] = _legacy_enum(fields["LIST"])
    return data


def render_legacy(rec: dict[str, Any]) -> dict[str, Any]:
    def label(key: str) -> str | None:
        return label_of(rec[key], "") or None

    out = {
        "ID": str(rec["id"]),
        "ENTITY_ID": rec["entityId"],
        "FIELD_NAME": rec["fieldName"],
        "USER_TYPE_ID": rec["userTypeId"],
        "XML_ID": rec["xmlId"],
        "SORT": str(rec["sort"]),
        "MULTIPLE": rec["multiple"],
        "MANDATORY": rec["mandatory"],
        "SHOW_FILTER": rec["showFilter"],
        "SHOW_IN_LIST": rec["showInList"],
        "EDIT_IN_LIST": rec["editInList"],
        "IS_SEARCHABLE": rec["isSearchable"],
        "SETTINGS": rec["settings"],
        "EDIT_FORM_LABEL": label("editFormLabel"),
        "LIST_COLUMN_LABEL": label("listColumnLabel"),
        "LIST_FILTER_LABEL": label("listFilterLabel"),
        "ERROR_MESSAGE": label("errorMessage"),
        "HELP_MESSAGE": label("helpMessage"),
    }
    if rec["userTypeId"] == "enumeration":
        out["LIST"] = [
            {
                "ID": str(o["id"]),
                "SORT": str(o["sort"]),
                "VALUE": o["value"],
                "DEF": o["def"],
                "XML_ID": o["xmlId"],
            }
            for o in rec["enum"]
        ]
    return out


def render_config(rec: dict[str, Any]) -> dict[str, Any]:
    langs = sorted({"en", *[lang for key in uf.LABEL_KEYS for lang in rec[key]]})
    out: dict[str, Any] = {
        "id": str(rec["id"]),
        "entityId": rec["entityId"],
        "fieldName": rec["fieldName"],
        "userTypeId": rec["userTypeId"],
        "xmlId": rec["xmlId"],
        "sort": str(rec["sort"]),
        "multiple": rec["multiple"],
        "mandatory": rec["mandatory"],
        "showFilter": rec["showFilter"],
        "showInList": rec["showInList"],
        "editInList": rec["editInList"],
        "isSearchable": rec["isSearchable"],
        "settings": rec["settings"],
        "languageId": {lang: lang for lang in langs},
    }
    for key in uf.LABEL_KEYS:
        out[key] = {lang: rec[key].get(lang) for lang in langs}
    if rec["userTypeId"] == "enumeration":
        out["enum"] = [
            {
                "id": str(o["id"]),
                "userFieldId": str(rec["id"]),
                "value": o["value"],
                "def": o["def"],
                "sort": str(o["sort"]),
                "xmlId": o["xmlId"],
            }
            for o in rec["enum"]
        ]
    return out


def _record(call: Call, entity_id: str | None, key: str = "id") -> dict[str, Any]:
    try:
        rec = crm(call).userfields.by_id.get(int(call.param(key)))
    except (TypeError, ValueError):
        rec = None
    if rec is None or (entity_id is not None and rec["entityId"] != entity_id):
        raise (
            RestError("", "The entity with ID is not found.")
            if entity_id
            else RestError("NOT_FOUND", "User field not found")
        )
    return rec


def _register_legacy(kind: str) -> None:
    entity_id = f"CRM_{kind.upper()}"

    @method(f"crm.{kind}.userfield.add", scope="crm")
    def add(call: Call) -> int:
        fields = call.param("fields") or {}
        if not isinstance(fields, dict) or not fields.get("FIELD_NAME"):
            raise RestError("", "The 'FIELD_NAME' field is not found.")
        if not fields.get("USER_TYPE_ID"):
            raise RestError("", "The 'USER_TYPE_ID' field is not found.")
        data = from_legacy(fields)
        data.update(
            fieldName=uf.legacy_field_name(fields["FIELD_NAME"]),
            userTypeId=str(fields["USER_TYPE_ID"]),
        )
        try:
            return crm(call).add_userfield(entity_id, data)["id"]
        except CrmError as exc:
            raise RestError(exc.code, exc.message) from None

    @method(f"crm.{kind}.userfield.list", scope="crm")
    def list_(call: Call) -> ListPage:
        rows = [render_legacy(r) for r in crm(call).userfields.of_entity(entity_id)]
        flt = {k: v for k, v in dict_param(call, "filter").items() if str(k).upper() != "LANG"}
        rows = listing.order_rows(listing.filter_rows(rows, flt), dict_param(call, "order"))
        return listing.page(rows, call.param("start"))

    @method(f"crm.{kind}.userfield.get", scope="crm")
    def get(call: Call) -> dict[str, Any]:
        return render_legacy(_record(call, entity_id))

    @method(f"crm.{kind}.userfield.update", scope="crm")
    def update(call: Call) -> bool:
        rec = _record(call, entity_id)
        fields = call.param("fields") or {}
        try:
            crm(call).update_userfield(rec["id"], from_legacy(fields))
        except CrmError as exc:
            raise RestError(exc.code, exc.message) from None
        return True

    @method(f"crm.{kind}.userfield.delete", scope="crm")
    def delete(call: Call) -> bool:
        crm(call).delete_userfield(_record(call, entity_id)["id"])
        return True


for _kind in ("lead", "deal", "contact", "company"):
    _register_legacy(_kind)


def _module(call: Call) -> None:
    if not call.param("moduleId"):
        raise RestError("100", "Could not find value for parameter {moduleId}")


def _prefix_ok(entity_id: str, name: str) -> bool:
    suffix = entity_id[len("CRM_") :]
    prefix = f"UF_CRM_{suffix}_" if suffix.isdigit() else "UF_CRM_"
    return name.startswith(prefix) and len(name) > len(prefix)


@method("userfieldconfig.add", scope="userfieldconfig")
def config_add(call: Call) -> dict[str, Any]:
    _module(call)
    field = call.param("field")
    if not isinstance(field, dict):
        raise RestError("100", "Could not find value for parameter {field}")
    entity_id, name = str(field.get("entityId") or ""), str(field.get("fieldName") or "")
    if crm(call).uf_entity_etid(entity_id) is None or not _prefix_ok(entity_id, name):
        raise RestError("", "You cannot create custom fields")
    data = {
        k: v
        for k, v in field.items()
        if k not in ("showInList", "listColumnLabel", "listFilterLabel", "errorMessage", "label")
    }
    try:
        return {"field": render_config(crm(call).add_userfield(entity_id, data))}
    except CrmError as exc:
        raise RestError(exc.code, exc.message) from None


@method("userfieldconfig.list", scope="userfieldconfig")
def config_list(call: Call) -> ListPage:
    _module(call)
    rows = [
        render_config(r) for r in sorted(crm(call).userfields.by_id.values(), key=lambda r: r["id"])
    ]
    rows = listing.filter_rows(rows, dict_param(call, "filter"))
    rows = listing.order_rows(rows, dict_param(call, "order", {"sort": "ASC", "id": "ASC"}))
    page = listing.page(rows, call.param("start"))
    page.result = {"fields": page.result}
    return page


@method("userfieldconfig.get", scope="userfieldconfig")
def config_get(call: Call) -> dict[str, Any]:
    _module(call)
    return {"field": render_config(_record(call, None))}


@method("userfieldconfig.update", scope="userfieldconfig")
def config_update(call: Call) -> dict[str, Any]:
    _module(call)
    rec = _record(call, None)
    field = call.param("field") or {}
    data = {
        k: v
        for k, v in field.items()
        if k not in ("entityId", "fieldName", "userTypeId", "multiple")
    }
    if str(field.get("userTypeId") or "") != "enumeration":
        # "To apply changes to enum, field.userTypeId must be set to enumeration"
        # (api-reference/crm/universal/userfieldconfig/userfieldconfig-update.md)
        data.pop("enum", None)
    try:
        return {"field": render_config(crm(call).update_userfield(rec["id"], data))}
    except CrmError as exc:
        raise RestError(exc.code, exc.message) from None


@method("userfieldconfig.delete", scope="userfieldconfig")
def config_delete(call: Call) -> None:
    _module(call)
    crm(call).delete_userfield(_record(call, None)["id"])
    return None
