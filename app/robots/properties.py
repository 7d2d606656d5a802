"""Parse the property strings a portal posts into typed values, by the robot's spec.

The portal externalizes every property (protocol §6.2): numbers arrive as text ("12,5" as
typed), booleans as ``Y``/``N``, users as ``user_5``, dates as text, a missing value as
``""`` and a multiple property as a list. :func:`parse_properties` turns them into Decimal,
int, bool, user id, date/datetime, str — or raises :class:`PropertyError` listing every
problem (Russian with an English gloss), so the robot answers one clear message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.domain.numbers import ValueProblem, parse_number
from app.robots.spec import PropertySpec, RobotSpec

_TRUE = {"y", "yes", "1", "true", "да"}
_FALSE = {"n", "no", "0", "false", "нет", ""}
_USER = re.compile(r"^(?:user_)?(\d{1,12})$")
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
_DATETIME_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M:%S")


class PropertyError(ValueError):
    """One or more properties are unusable; ``problems`` maps property code → message."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.problems.items()))


def _label(prop: PropertySpec) -> str:
    return prop.names.get("ru") or prop.names.get("en") or prop.code


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_value(prop: PropertySpec, raw: Any) -> Any:
    """One (non-empty) value by ``prop.type``; raises ValueError with a user-facing text."""
    text = raw.strip() if isinstance(raw, str) else raw
    kind = prop.type
    if kind == "double":
        return parse_number(text, _label(prop), allow_negative=True)
    if kind == "int":
        number = parse_number(text, _label(prop), allow_negative=True)
        if number != number.to_integral_value():
            raise ValueError(f"«{raw}» — нужно целое число (an integer is required)")
        return int(number)
    if kind == "bool":
        lowered = str(text).lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"«{raw}» — ожидалось Y или N (expected Y/N)")
    if kind == "user":
        match = _USER.match(str(text).rstrip(";").strip())
        if not match:
            raise ValueError(f"«{raw}» — не пользователь, ожидалось user_5 (expected user_<id>)")
        return int(match.group(1))
    if kind in ("date", "datetime"):
        return _parse_date(str(text), with_time=kind == "datetime")
    if kind == "select":
        if str(text) not in prop.options:
            allowed = ", ".join(prop.options)
            raise ValueError(f"«{raw}» — нет такого варианта; доступны: {allowed} (bad option)")
        return str(text)
    return str(raw)  # string / text: kept as typed (inner spaces matter in templates)


def _parse_date(text: str, *, with_time: bool) -> date | datetime:
    try:
        parsed = datetime.fromisoformat(text)
        return parsed if with_time else parsed.date()
    except ValueError:
        pass
    for fmt in _DATETIME_FORMATS + _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if with_time else parsed.date()
    raise ValueError(f"«{text}» — не дата, ожидалось 22.11.2026 или 2026-11-22 (not a date)")


def parse_properties(spec: RobotSpec, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Typed values for every declared property (None for an empty optional one, a list for
    a multiple one); undeclared keys are ignored. Raises PropertyError with every problem."""
    raw = raw or {}
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for prop in spec.properties:
        given = raw.get(prop.code)
        items = given if isinstance(given, list) else [given]
        items = [v for v in items if not _empty(v)]
        if not items:
            if prop.required:
                problems[prop.code] = f"«{_label(prop)}» не заполнено (required value is empty)"
            values[prop.code] = [] if prop.multiple else None
            continue
        if len(items) > 1 and not prop.multiple:
            problems[prop.code] = f"«{_label(prop)}»: ожидалось одно значение (single value)"
            continue
        try:
            parsed = [parse_value(prop, v) for v in items]
        except ValueProblem as exc:
            problems[prop.code] = f"«{_label(prop)}»: {exc.message_ru} ({exc.message_en})"
            continue
        except ValueError as exc:
            problems[prop.code] = f"«{_label(prop)}»: {exc}"
            continue
        values[prop.code] = parsed if prop.multiple else parsed[0]
    if problems:
        raise PropertyError(problems)
    return values


def as_plain(value: Any) -> Any:
    """A return value as the portal takes it: Decimal → float, dates → ISO, bool → Y/N."""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [as_plain(v) for v in value]
    return value
