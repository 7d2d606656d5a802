"""Printing stored items: ``crm.item.*`` (camelCase, native types, ``null``) and legacy
``crm.{lead,deal,contact,company}.*`` (UPPER_CASE, numbers as strings, ``""`` for empty dates)."""

from __future__ import annotations

from typing import Any

from b24emu.crm import dates
from b24emu.crm import userfields as uf_values
from b24emu.crm.entity import EntityView
from b24emu.crm.schema import INT_KINDS, MULTIFIELD_TYPES, Field


def _item_value(f: Field, value: Any, offset: str) -> Any:
    if f.kind == "fm":
        return [
            {"id": v["id"], "valueType": v["valueType"], "value": v["value"], "typeId": v["typeId"]}
            for v in value or []
        ]
    if f.multiple:
        return list(value or [])
    if value is None:
        return 0 if f.zero_when_empty else None
    if f.kind == "datetime":
        return dates.iso(value, offset)
    if f.kind == "date":
        return dates.iso_date(value, offset)
    return value


def render_item(
    view: EntityView,
    row: dict[str, Any],
    offset: str,
    *,
    select: list[str] | None = None,
    original_uf: bool = False,
) -> dict[str, Any]:
    """``select`` None or containing ``*`` = every field (incl. ``fm``); else only those named."""
    wanted = None if not select or "*" in select else set(select)
    out: dict[str, Any] = {}
    for name, f in view.fields.items():
        if wanted is None or name in wanted:
            out[name] = _item_value(f, row.get(name), offset)
    for upper, rec in view.ufs.items():
        key = upper if original_uf else view.uf_camel[upper]
        if wanted is None or key in wanted or upper in wanted:
            out[key] = uf_values.render(rec, row.get(upper), offset, legacy=False)
    if wanted is None or "entityTypeId" in wanted:
        out["entityTypeId"] = view.etid
    return out


def _legacy_value(f: Field, value: Any, offset: str) -> Any:
    if f.multiple:
        return [str(v) for v in value or []]
    if f.kind in ("date", "datetime"):
        if value is None:
            return ""
        return dates.iso_date(value, offset) if f.kind == "date" else dates.iso(value, offset)
    if value is None:
        return None
    if f.kind in INT_KINDS:
        return str(value)
    if f.kind == "double":
        return f"{float(value):.2f}"
    return value


def legacy_multifields(
    row: dict[str, Any], types: tuple[str, ...] = MULTIFIELD_TYPES
) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for v in row.get("fm") or []:
        if v["typeId"] in types:
            out.setdefault(v["typeId"], []).append(
                {
                    "ID": str(v["id"]),
                    "VALUE_TYPE": v["valueType"],
                    "VALUE": v["value"],
                    "TYPE_ID": v["typeId"],
                }
            )
    return out


def render_legacy(
    view: EntityView, row: dict[str, Any], offset: str, *, select: list[str] | None = None
) -> dict[str, Any]:
    """``select`` None = everything (what ``.get`` prints); a list follows the ``.list`` rules:
    empty = standard fields, ``*`` = standard fields, ``UF_*`` = user fields, multifields by name."""
    if select is None:
        names, want_ufs, fm_types = None, True, MULTIFIELD_TYPES
    else:
        upper_select = [str(s).upper() for s in select]
        everything = not upper_select or "*" in upper_select
        names = None if everything else set(upper_select)
        want_ufs = "UF_*" in upper_select
        fm_types = tuple(t for t in MULTIFIELD_TYPES if t in upper_select)
        if names is not None:
            names -= set(MULTIFIELD_TYPES)
    out: dict[str, Any] = {}
    for upper, f in view.by_upper.items():
        if f.kind == "fm" or (names is not None and upper not in names):
            continue
        out[upper] = _legacy_value(f, row.get(f.camel), offset)
    for upper, rec in view.ufs.items():
        if want_ufs or (names is not None and upper in names):
            out[upper] = uf_values.render(rec, row.get(upper), offset, legacy=True)
    out.update(legacy_multifields(row, fm_types))
    return out


def field_value(view: EntityView, row: dict[str, Any], name: str, offset: str) -> Any:
    """One field in legacy typing by UPPER or camel name (None when the type has no such field)."""
    upper = name.upper()
    f = view.fields.get(name) or next(
        (f for f in view.fields.values() if f.upper_name == upper), None
    )
    if f is not None:
        return _legacy_value(f, row.get(f.camel), offset)
    key = view.uf_key(name, False) or (upper if upper in view.ufs else None)
    if key is not None:
        return uf_values.render(view.ufs[key], row.get(key), offset, legacy=True)
    return None
