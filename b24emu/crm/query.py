"""List queries over items for ``crm.item.list`` (camelCase names, OR groups) and the legacy
``crm.*.list`` (UPPER names, no OR).

Fast path: ordering by id (either direction) walks the id-ordered index between the
``>id``/``<id`` bounds (bisect) and, with ``start=-1``, stops after 50 matches — the documented export loop
over 100,000+ rows costs a page, not a scan.
"""

from __future__ import annotations

from typing import Any

from b24emu import listing
from b24emu.crm import dates
from b24emu.crm.dedup import normalize
from b24emu.crm.entity import EntityView
from b24emu.crm.schema import INT_KINDS, MULTIFIELD_TYPES
from b24emu.registry import ListPage

FM_PREFIX = "fm:"


class QueryError(ValueError):
    """Unknown filter/order field in ``crm.item.list`` (INVALID_ARG_VALUE)."""


def resolver(view: EntityView, *, legacy: bool, original_uf: bool = False):
    """Map an API field name to the storage key (None when unknown)."""

    def resolve(name: str) -> str | None:
        if legacy:
            upper = name.upper()
            f = view.by_upper.get(upper)
            if f is not None:
                return f.camel
            if upper in MULTIFIELD_TYPES and view.has_fm:
                return FM_PREFIX + upper  # legacy lists filter contacts by PHONE/EMAIL
            return upper if upper in view.ufs else None
        key = view.internal_key(name, original_uf)
        if key is None and name.upper() in view.by_upper:  # UPPER names are tolerated
            key = view.by_upper[name.upper()].camel
        return key

    return resolve


def _converter(view: EntityView, resolve, offset: str):
    def convert(name: str, value: Any) -> Any:
        key = resolve(name)
        if key and key.startswith(FM_PREFIX):
            return (
                normalize(key[len(FM_PREFIX) :], str(value)) if value not in (None, "") else value
            )
        f = view.fields.get(key or "")
        kind = f.kind if f else (view.ufs[key]["userTypeId"] if key in view.ufs else "")
        if value is None or value == "":
            return value
        try:
            if kind == "datetime":
                return dates.parse_datetime(value, offset)
            if kind == "date":
                return dates.parse_date(value, offset)
            if kind in INT_KINDS or kind in ("enumeration", "employee"):
                return int(float(value))
            if kind == "double":
                return float(value)
            if kind == "boolean" and key in view.ufs:
                return 1 if str(value).upper() in ("1", "Y", "TRUE") else 0
        except (TypeError, ValueError):
            return value
        return value

    return convert


def query(
    store: Any,
    view: EntityView,
    flt: Any,
    order: Any,
    start: Any,
    *,
    legacy: bool,
    original_uf: bool = False,
) -> ListPage:
    """A page of internal rows; raises :class:`QueryError` for unknown fields (crm.item)."""
    resolve = resolver(view, legacy=legacy, original_uf=original_uf)
    if isinstance(flt, list):  # form transport turns {"0": {...}} into a list
        flt = {str(i): v for i, v in enumerate(flt)}
    flt = flt if isinstance(flt, dict) else {}
    order = order if isinstance(order, dict) else {}
    mapped_order: dict[str, str] = {}
    for name, direction in order.items():
        key = resolve(str(name))
        if key is None:
            if legacy:
                continue
            raise QueryError(f"Invalid order: field '{name}' is not allowed in order")
        mapped_order[key] = str(direction)
    if not legacy:
        bad = _unknown_filter_field(flt, resolve)
        if bad is not None:
            raise QueryError(f"Invalid filter: field '{bad}' is not allowed in filter")
    predicate = listing.compile_filter(
        flt,
        allow_or=not legacy,
        value_of=lambda row, name: _value(row, resolve(name) or name),
        convert=_converter(view, resolve, store.portal.timezone_offset),
        allowed=lambda name: resolve(name) is not None if not legacy else True,
    )
    by_id = not mapped_order or list(mapped_order) == ["id"]
    descending = bool(mapped_order) and mapped_order.get("id", "").upper() == "DESC"
    offset = listing.parse_start(start)
    table = store._items.get(view.etid, {})
    if not by_id:
        rows = [row for row in table.values() if predicate(row)]
        return listing.page(listing.order_rows(rows, mapped_order), offset)
    low, high = _id_bounds(flt, resolve)
    ids = store.ids_between(view.etid, low, high)
    walk = reversed(ids) if descending else iter(ids)
    if offset == -1:
        rows: list[dict[str, Any]] = []
        for item_id in walk:
            row = table[item_id]
            if predicate(row):
                rows.append(row)
                if len(rows) == listing.PAGE_SIZE:
                    break
        return listing.page(rows, -1)
    return listing.page([table[i] for i in walk if predicate(table[i])], offset)


def _value(row: dict[str, Any], key: str) -> Any:
    if key.startswith(FM_PREFIX):
        type_id = key[len(FM_PREFIX) :]
        return [
            normalize(type_id, v["value"]) for v in row.get("fm") or [] if v["typeId"] == type_id
        ]
    return row.get(key)


def _id_bounds(flt: dict[str, Any], resolve) -> tuple[int | None, int | None]:
    """Exclusive (low, high) id bounds from top-level ``>id``/``>=id``/``<id``/``<=id``."""
    low = high = None
    for key, value in flt.items():
        op, name = listing.split_key(str(key))
        if op not in (">", ">=", "<", "<=") or resolve(name) != "id":
            continue
        try:
            number = int(float(value))
        except (TypeError, ValueError):
            continue
        if op in (">", ">="):
            candidate = number if op == ">" else number - 1
            low = candidate if low is None else max(low, candidate)
        else:
            candidate = number if op == "<" else number + 1
            high = candidate if high is None else min(high, candidate)
    return low, high


def _unknown_filter_field(flt: Any, resolve) -> str | None:
    items = flt.items() if isinstance(flt, dict) else enumerate(flt or [])
    for key, value in items:
        key = str(key)
        if key.lower() == "logic":
            continue
        if isinstance(value, dict) and (key.isdigit() or "logic" in value):
            bad = _unknown_filter_field(value, resolve)
            if bad:
                return bad
            continue
        _, name = listing.split_key(key)
        if resolve(name) is None:
            return name
    return None
