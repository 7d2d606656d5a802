"""Filtering, ordering and paging of list methods, the way a Bitrix24 portal does it.

* :func:`compile_filter` / :func:`filter_rows` — prefix operators ``= ! != > >= < <= @ !@ %
  =% %= !% !=% !%=`` on field names, and (when ``allow_or``) nested groups
  ``{"logic": "OR", "0": {...}, "1": {...}}`` as ``crm.item.list``/``crm.type.list`` accept.
* :func:`order_rows` — ``{"FIELD": "ASC"|"DESC"}`` (any case), NULLs first on ASC like MySQL.
* :func:`page` — fixed pages of 50, ``start`` floored to a multiple of 50, ``next`` only when
  more rows exist, ``start=-1`` = no counting (``total`` 0, no ``next``).

Rows are anything; ``value_of(row, field)`` reads a field (default: ``row.get(field)``) and
``convert(field, value)`` turns a filter value into the row's representation (e.g. ISO dates to
timestamps). Both hooks let each method family keep its own storage.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from b24emu.registry import ListPage

PAGE_SIZE = 50
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")
Predicate = Callable[[Any], bool]
ValueOf = Callable[[Any, str], Any]
Convert = Callable[[str, Any], Any]

# Longest first so that "!=%" wins over "!=" and "!".
_OPERATORS = ("!=%", "!%=", ">=", "<=", "!=", "!@", "=%", "%=", "!%", "=", "!", ">", "<", "@", "%")


class FilterError(ValueError):
    """A filter the portal refuses (unknown field or operator); ``field`` names the key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def split_key(key: str) -> tuple[str, str]:
    """``">=opportunity"`` → ``(">=", "opportunity")``; no prefix means ``"="``."""
    for op in _OPERATORS:
        if key.startswith(op):
            return op, key[len(op) :]
    return "=", key


def _default_value_of(row: Any, name: str) -> Any:
    return row.get(name)


def _coerce(filter_value: Any, row_value: Any) -> Any:
    """Compare like the database would: numeric columns compare numerically, text as text."""
    if isinstance(row_value, bool) or filter_value is None:
        return filter_value
    if isinstance(row_value, (int, float)) and isinstance(filter_value, str):
        try:
            return float(filter_value)
        except ValueError:
            return filter_value
    if isinstance(row_value, str) and isinstance(filter_value, (int, float)):
        return str(filter_value)
    return filter_value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def _like_regex(pattern: str, explicit: bool) -> re.Pattern[str]:
    """SQL LIKE: ``%`` substring search, or explicit ``%``/``_`` wildcards with ``=%``/``%=``."""
    if not explicit:
        return re.compile(re.escape(pattern), re.IGNORECASE)
    parts = [".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern]
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL)


def _values(row_value: Any) -> list[Any]:
    """Multiple fields match when any element matches (SQL join semantics)."""
    return list(row_value) if isinstance(row_value, (list, tuple, set)) else [row_value]


def _eq(row_value: Any, wanted: Any) -> bool:
    if isinstance(wanted, (list, tuple)):
        return any(_eq(row_value, w) for w in wanted)
    if _empty(wanted):
        return all(_empty(v) for v in _values(row_value)) if row_value != [] else True
    return any(v is not None and v == _coerce(wanted, v) for v in _values(row_value))


def _cmp(row_value: Any, wanted: Any, op: str) -> bool:
    for v in _values(row_value):
        if v is None or v == "":
            continue
        w = _coerce(wanted, v)
        if isinstance(v, str) and _NUMERIC.match(v) and isinstance(w, str) and _NUMERIC.match(w):
            v, w = float(v), float(w)  # numbers printed as strings still compare as numbers
        try:
            if (
                (op == ">" and v > w)
                or (op == ">=" and v >= w)
                or (op == "<" and v < w)
                or (op == "<=" and v <= w)
            ):
                return True
        except TypeError:
            if (
                (op[0] == ">" and str(v) > str(w))
                or (op[0] == "<" and str(v) < str(w))
                or (op.endswith("=") and str(v) == str(w))
            ):
                return True
    return False


def _like(row_value: Any, regexes: list[re.Pattern[str]]) -> bool:
    return any(
        v is not None and any(rx.search(str(v)) for rx in regexes) for v in _values(row_value)
    )


def _regexes(wanted: Any, explicit: bool) -> list[re.Pattern[str]]:
    patterns = wanted if isinstance(wanted, (list, tuple)) else [wanted]
    return [_like_regex(str(p), explicit) for p in patterns]


def _leaf(op: str, name: str, wanted: Any, value_of: ValueOf) -> Predicate:
    if op in ("=", "@"):
        wanted_list = (
            wanted if op == "=" else (wanted if isinstance(wanted, (list, tuple)) else [wanted])
        )
        return lambda row: _eq(value_of(row, name), wanted_list)
    if op in ("!", "!=", "!@"):
        return lambda row: not _eq(value_of(row, name), wanted)
    if op in (">", ">=", "<", "<="):
        return lambda row: _cmp(value_of(row, name), wanted, op)
    # Patterns are compiled once per filter, not once per row.
    plain, explicit = _regexes(wanted, False), _regexes(wanted, True)
    if op == "%":
        return lambda row: _like(value_of(row, name), plain)
    if op in ("=%", "%="):
        return lambda row: _like(value_of(row, name), explicit)
    if op == "!%":
        return lambda row: not _like(value_of(row, name), plain)
    return lambda row: not _like(value_of(row, name), explicit)  # !=% and !%=


def compile_filter(
    flt: dict[str, Any] | None,
    *,
    allow_or: bool = False,
    value_of: ValueOf | None = None,
    convert: Convert | None = None,
    allowed: Callable[[str], bool] | None = None,
) -> Predicate:
    """Turn a filter dict into a predicate. ``allowed(name)`` False → :class:`FilterError`."""
    value_of = value_of or _default_value_of
    checks: list[Predicate] = []
    if not flt:
        return lambda row: True
    items = flt.items() if isinstance(flt, dict) else enumerate(flt)
    logic = str(flt.get("logic", "AND")).upper() if isinstance(flt, dict) else "AND"
    for key, wanted in items:
        key = str(key)
        if key.lower() == "logic":
            continue
        if isinstance(wanted, dict) and (key.isdigit() or "logic" in wanted or "LOGIC" in wanted):
            if not allow_or:
                continue  # legacy lists have no nested groups: the portal ignores them
            checks.append(
                compile_filter(
                    wanted, allow_or=True, value_of=value_of, convert=convert, allowed=allowed
                )
            )
            continue
        op, name = split_key(key)
        if allowed is not None and not allowed(name):
            raise FilterError(name, f"Invalid filter: field '{name}' is not allowed in filter")
        if convert is not None:
            wanted = (
                [convert(name, w) for w in wanted]
                if isinstance(wanted, (list, tuple))
                else convert(name, wanted)
            )
        checks.append(_leaf(op, name, wanted, value_of))
    if not checks:
        return lambda row: True
    if logic == "OR" and allow_or:
        return lambda row: any(check(row) for check in checks)
    return lambda row: all(check(row) for check in checks)


def filter_rows(
    rows: Iterable[Any], flt: dict[str, Any] | None, *, allow_or: bool = False, **hooks: Any
) -> list[Any]:
    """Rows matching ``flt`` (see :func:`compile_filter` for the hooks)."""
    predicate = compile_filter(flt, allow_or=allow_or, **hooks)
    return [row for row in rows if predicate(row)]


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is None or value == "":
        return (0, 0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    if isinstance(value, str) and _NUMERIC.match(value):
        return (1, float(value))  # "10" after "9": numeric columns printed as strings
    return (2, str(value).lower())


def order_rows(
    rows: list[Any], order: dict[str, Any] | None, *, value_of: ValueOf | None = None
) -> list[Any]:
    """Stable multi-key sort; the first key of ``order`` is the primary one."""
    value_of = value_of or _default_value_of
    result = list(rows)
    for name, direction in reversed(list((order or {}).items())):
        desc = str(direction).upper() == "DESC"
        result.sort(key=lambda row, n=name: _sort_key(value_of(row, n)), reverse=desc)
    return result


def parse_start(start: Any) -> int:
    """``start`` as the portal reads it: ``-1`` disables counting, else floored to 50s."""
    try:
        value = int(float(start or 0))
    except (TypeError, ValueError):
        value = 0
    if value == -1:
        return -1
    return max(0, value) // PAGE_SIZE * PAGE_SIZE


def page(rows: list[Any], start: Any) -> ListPage:
    """One page of already filtered and ordered rows (``result`` is the row slice)."""
    offset = parse_start(start)
    if offset == -1:
        return ListPage(result=rows[:PAGE_SIZE], total=0, next=None, counted_rows=0)
    chunk = rows[offset : offset + PAGE_SIZE]
    total = len(rows)
    nxt = offset + len(chunk) if offset + len(chunk) < total else None
    return ListPage(result=chunk, total=total, next=nxt, counted_rows=total)
