"""User fields (``crm.*.userfield.*`` and ``userfieldconfig.*``) and their values.

A field record uses ``userfieldconfig`` keys with native types; the method modules print it
in either API's shape. ``entityId`` is ``CRM_LEAD``/``CRM_DEAL``/``CRM_CONTACT``/``CRM_COMPANY``
or ``CRM_{type.id}`` for a smart process. Values live in items under the UPPER field name.
"""

from __future__ import annotations

import re
from typing import Any

from b24emu.crm import dates
from b24emu.crm.errors import CrmError, FieldValueError, MultipleExpectedError

TYPES = {
    "string",
    "integer",
    "double",
    "boolean",
    "date",
    "datetime",
    "money",
    "url",
    "address",
    "enumeration",
    "file",
    "employee",
    "crm_status",
    "iblock_section",
    "iblock_element",
    "crm",
}
LABEL_KEYS = ("editFormLabel", "listColumnLabel", "listFilterLabel", "errorMessage", "helpMessage")
MAX_NAME = 50


def legacy_field_name(raw: str) -> str:
    """``MANAGER_NOTE``/``UF_MANAGER_NOTE``/``UF_CRM_MANAGER_NOTE`` → ``UF_CRM_MANAGER_NOTE``."""
    name = str(raw).strip().upper()
    if name.startswith("UF_CRM_"):
        return name
    if name.startswith("UF_"):
        return "UF_CRM_" + name[3:]
    return "UF_CRM_" + name


def check_name(name: str) -> None:
    if len(name) > MAX_NAME:
        raise CrmError("ERROR_CORE", "Field name is too long (more than 50 characters).")
    if not re.match(r"^[A-Z0-9_]+$", name):
        raise CrmError(
            "ERROR_CORE", "Field name may contain only Latin letters, digits and underscores."
        )


def lang_map(value: Any) -> dict[str, str | None]:
    if isinstance(value, dict):
        return {str(k): (None if v is None else str(v)) for k, v in value.items()}
    if value in (None, ""):
        return {}
    return {"en": str(value)}


class UserFields:
    def __init__(self) -> None:
        self.by_id: dict[int, dict[str, Any]] = {}
        self._next_id = 1
        self._next_enum = 1

    def of_entity(self, entity_id: str) -> list[dict[str, Any]]:
        return sorted(
            (f for f in self.by_id.values() if f["entityId"] == entity_id),
            key=lambda f: (f["sort"], f["id"]),
        )

    def by_name(self, entity_id: str, name: str) -> dict[str, Any] | None:
        for f in self.by_id.values():
            if f["entityId"] == entity_id and f["fieldName"] == name:
                return f
        return None

    def add(self, entity_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` uses userfieldconfig keys; labels may be strings or lang maps."""
        name = str(data["fieldName"])
        check_name(name)
        type_id = str(data.get("userTypeId") or "")
        if type_id not in TYPES and not type_id.startswith("rest_"):
            raise CrmError("ERROR_CORE", "Invalid custom type specified.")
        if self.by_name(entity_id, name):
            raise CrmError("ERROR_CORE", f"A field with the name {name} already exists.")
        multiple = (
            "Y" if str(data.get("multiple", "N")).upper() == "Y" and type_id != "boolean" else "N"
        )
        record: dict[str, Any] = {
            "id": self._next_id,
            "entityId": entity_id,
            "fieldName": name,
            "userTypeId": type_id,
            "xmlId": data.get("xmlId") or None,
            "sort": int(data.get("sort") or 100),
            "multiple": multiple,
            "mandatory": _yn(data.get("mandatory")),
            "showFilter": str(data.get("showFilter") or "N").upper(),
            "showInList": _yn(data.get("showInList", "Y")),
            "editInList": _yn(data.get("editInList", "Y")),
            "isSearchable": _yn(data.get("isSearchable")),
            "settings": dict(data.get("settings") or {}),
            "enum": [],
        }
        for key in LABEL_KEYS:
            record[key] = lang_map(data.get(key))
        self._next_id += 1
        self.set_enum(record, data.get("enum") or [])
        self.by_id[record["id"]] = record
        return record

    def update(self, record: dict[str, Any], data: dict[str, Any]) -> None:
        for key in (
            "xmlId",
            "sort",
            "mandatory",
            "showFilter",
            "showInList",
            "editInList",
            "isSearchable",
            "settings",
        ):
            if key in data:
                value = data[key]
                record[key] = (
                    int(value)
                    if key == "sort"
                    else dict(value or {})
                    if key == "settings"
                    else value
                    if key == "xmlId"
                    else str(value).upper()
                )
        for key in LABEL_KEYS:
            if key in data:
                record[key] = lang_map(data[key])
        if "enum" in data:
            self.set_enum(record, data["enum"] or [])

    def set_enum(self, record: dict[str, Any], items: Any) -> None:
        """Add new options, edit ones with ``id``, drop ones with ``del: Y``."""
        items = list(items.values()) if isinstance(items, dict) else list(items)
        current = {opt["id"]: opt for opt in record["enum"]}
        for item in items:
            if not isinstance(item, dict):
                continue
            oid = item.get("id")
            if oid not in (None, "") and int(oid) in current:
                opt = current[int(oid)]
                if str(item.get("del", "N")).upper() == "Y":
                    record["enum"].remove(opt)
                    continue
                for key in ("value", "sort", "xmlId", "def"):
                    if key in item:
                        opt[key] = int(item[key]) if key == "sort" else str(item[key])
                continue
            if str(item.get("del", "N")).upper() == "Y" or item.get("value") in (None, ""):
                continue
            xml_id = str(item.get("xmlId") or f"opt{self._next_enum}")
            if any(o["xmlId"] == xml_id for o in record["enum"]):
                raise CrmError("ERROR_CORE", f"List item with XML_ID={xml_id} already exists.")
            record["enum"].append(
                {
                    "id": self._next_enum,
                    "value": str(item["value"]),
                    "def": _yn(item.get("def")),
                    "sort": int(item.get("sort") or 500),
                    "xmlId": xml_id,
                }
            )
            self._next_enum += 1
        record["enum"].sort(key=lambda o: (o["sort"], o["id"]))

    def delete(self, field_id: int) -> dict[str, Any]:
        return self.by_id.pop(field_id)


def _yn(value: Any) -> str:
    return "Y" if str(value).upper() in ("Y", "1", "TRUE") or value is True else "N"


def coerce(
    record: dict[str, Any], value: Any, label: str, offset: str, *, strict_multiple: bool
) -> Any:
    """An input value → stored form; ``label`` is the name used in error messages."""
    if record["multiple"] == "Y":
        if isinstance(value, dict):
            value = list(value.values())
        if not isinstance(value, list):
            if strict_multiple and value not in (None, ""):
                raise MultipleExpectedError(label, value)
            value = [] if value in (None, "") else [value]
        return [v for v in (_one(record, item, label, offset) for item in value) if v is not None]
    if isinstance(value, list):
        value = value[0] if value else None
    return _one(record, value, label, offset)


def _one(record: dict[str, Any], value: Any, label: str, offset: str) -> Any:
    if value is None or value == "" or value is False and record["userTypeId"] != "boolean":
        return None
    kind = record["userTypeId"]
    try:
        if kind in ("integer", "employee"):
            number = float(value)
            if number != int(number):
                raise ValueError(value)
            return int(number)
        if kind == "double":
            return float(value)
        if kind == "boolean":
            text = str(value).upper()
            if text not in ("Y", "N", "1", "0", "TRUE", "FALSE"):
                raise ValueError(value)
            return 1 if text in ("Y", "1", "TRUE") else 0
        if kind == "date":
            return dates.parse_date(value, offset)
        if kind == "datetime":
            return dates.parse_datetime(value, offset)
        if kind == "enumeration":
            oid = int(value)
            if oid not in {o["id"] for o in record["enum"]}:
                raise ValueError(value)
            return oid
    except (TypeError, ValueError):
        raise FieldValueError(label) from None
    if isinstance(value, (dict, list)) and kind != "file":
        raise FieldValueError(label)
    return value if kind == "file" else str(value)


def render(record: dict[str, Any], stored: Any, offset: str, *, legacy: bool) -> Any:
    """A stored value printed for ``crm.item.*`` (native) or legacy methods (strings)."""
    if record["multiple"] == "Y":
        return [_render_one(record, v, offset, legacy) for v in (stored or [])]
    return _render_one(record, stored, offset, legacy)


def _render_one(record: dict[str, Any], value: Any, offset: str, legacy: bool) -> Any:
    kind = record["userTypeId"]
    if value is None:
        return "" if legacy and kind in ("date", "datetime") else None
    if kind == "date":
        return dates.iso_date(value, offset)
    if kind == "datetime":
        return dates.iso(value, offset)
    if kind == "boolean":
        return ("1" if value else "0") if legacy else ("Y" if value else "N")
    if legacy and isinstance(value, (int, float)):
        return str(value)
    return value
