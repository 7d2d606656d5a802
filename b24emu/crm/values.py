"""Input coercion of system field values and multifield operations.

Every function raises a :class:`~b24emu.crm.errors.CrmError` naming the field (camelCase) so
the caller can refuse the whole write before anything is stored.
"""

from __future__ import annotations

from typing import Any

from b24emu.crm import dates
from b24emu.crm.errors import FieldValueError, MultipleExpectedError
from b24emu.crm.schema import INT_KINDS, MULTIFIELD_TYPES, Field

VALUE_TYPES = {
    "PHONE": ("WORK", "MOBILE", "FAX", "HOME", "PAGER", "MAILING", "OTHER"),
    "EMAIL": ("WORK", "HOME", "MAILING", "OTHER"),
    "WEB": ("WORK", "HOME", "VK", "LIVEJOURNAL", "TWITTER", "FACEBOOK", "OTHER"),
    "IM": (
        "TELEGRAM",
        "VK",
        "SKYPE",
        "VIBER",
        "BITRIX24",
        "OPENLINE",
        "IMOL",
        "ICQ",
        "MSN",
        "JABBER",
        "FACEBOOK",
        "INSTAGRAM",
        "OTHER",
    ),
    "LINK": ("USER", "OTHER"),
}


def coerce(f: Field, value: Any, offset: str, *, strict_multiple: bool = True) -> Any:
    """An input value for system field ``f`` → stored form."""
    if f.multiple:
        if isinstance(value, dict):
            value = list(value.values())
        if not isinstance(value, list):
            if strict_multiple and value not in (None, ""):
                raise MultipleExpectedError(f.camel, value)
            value = [] if value in (None, "", False) else [value]
        single = Field(f.camel, f.kind)
        return [v for v in (coerce(single, item, offset) for item in value) if v is not None]
    if value is None or value == "":
        return None
    try:
        if f.kind in INT_KINDS:
            number = float(value)
            if number != int(number):
                raise ValueError(value)
            return int(number)
        if f.kind == "double":
            return float(value)
        if f.kind == "boolean":
            text = str(value).upper()
            if text in ("Y", "1", "TRUE"):
                return "Y"
            if text in ("N", "0", "FALSE"):
                return "N"
            raise ValueError(value)
        if f.kind == "date":
            return dates.parse_date(value, offset)
        if f.kind == "datetime":
            return dates.parse_datetime(value, offset)
    except (TypeError, ValueError, OverflowError):
        raise FieldValueError(f.camel) from None
    if f.kind == "file":
        return value
    if isinstance(value, (dict, list)):
        raise FieldValueError(f.camel)
    return str(value)


def fm_ops(raw: Any) -> list[dict[str, Any]]:
    """Multifield input (crm.item list / keyed object, or legacy rows) → operations.

    An operation is ``{"id": int|None, "typeId", "valueType", "value", "delete": bool}``.
    Keyed-object entries without ``typeId`` are skipped silently, like the portal.
    """
    ops: list[dict[str, Any]] = []
    if isinstance(raw, dict):
        entries = [(key, value) for key, value in raw.items()]
    elif isinstance(raw, list):
        entries = [(None, value) for value in raw]
    else:
        return ops
    for key, entry in entries:
        if not isinstance(entry, dict):
            continue
        type_id = str(entry.get("typeId") or entry.get("TYPE_ID") or "").upper()
        if type_id not in MULTIFIELD_TYPES:
            continue
        raw_id = entry.get("id", entry.get("ID", key))
        item_id = int(raw_id) if raw_id is not None and str(raw_id).isdigit() else None
        has_value = "value" in entry or "VALUE" in entry
        value = entry.get("value", entry.get("VALUE", ""))
        delete = str(entry.get("DELETE", entry.get("delete", "N"))).upper() == "Y"
        if item_id is not None and (delete or (has_value and str(value or "").strip() == "")):
            ops.append({"id": item_id, "typeId": type_id, "delete": True})
            continue
        value_type = str(entry.get("valueType") or entry.get("VALUE_TYPE") or "").upper()
        if value_type not in VALUE_TYPES[type_id]:
            value_type = "WORK" if "WORK" in VALUE_TYPES[type_id] else "OTHER"
        ops.append(
            {
                "id": item_id,
                "typeId": type_id,
                "valueType": value_type,
                "value": None if not has_value else str(value).strip(),
                "delete": False,
                "typeGiven": bool(entry.get("valueType") or entry.get("VALUE_TYPE")),
            }
        )
    return ops


def apply_fm(
    current: list[dict[str, Any]], ops: list[dict[str, Any]], next_id: Any
) -> list[dict[str, Any]]:
    """A new multifield list (the old one is not modified); ``next_id()`` mints ids."""
    result = [dict(v) for v in current]
    for op in ops:
        if op["id"] is None:
            if op.get("value"):
                result.append(
                    {
                        "id": next_id(),
                        "valueType": op["valueType"],
                        "value": op["value"],
                        "typeId": op["typeId"],
                    }
                )
            continue
        existing = next((v for v in result if v["id"] == op["id"]), None)
        if existing is None:
            continue
        if op["delete"]:
            result.remove(existing)
            continue
        if op.get("value") is not None:
            existing["value"] = op["value"]
        if op.get("typeGiven"):
            existing["valueType"] = op["valueType"]
    return result


def legacy_fm_input(fields: dict[str, Any]) -> list[dict[str, Any]] | None:
    """``PHONE``/``EMAIL``/... legacy arrays → one crm.item style row list (or None)."""
    rows: list[dict[str, Any]] = []
    found = False
    for type_id in MULTIFIELD_TYPES:
        values = fields.get(type_id)
        if values is None:
            continue
        found = True
        for entry in values.values() if isinstance(values, dict) else values:
            if isinstance(entry, dict):
                row = {"TYPE_ID": type_id, **entry}
                if "ID" in entry and "VALUE" not in entry:
                    row["DELETE"] = "Y"  # a bare {"ID": n} deletes that value
                rows.append(row)
    return rows if found else None
