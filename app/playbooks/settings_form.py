"""A playbook's settings as a web form: what each field is, how a typed value is read, and
the atomic save of a whole form.

The settings page (``app.widgets.settings``) renders one form per playbook from
:func:`fields`; its JS posts every field of the form at once to
``app.handlers.settings_api``, which calls :func:`save`. Values come as a person typed them:
"12,5" is a number (decimal comma, ``app.domain.numbers.parse_number``), "abc" is refused
with a message for that field. Tables come as rows of cells (see :func:`table_shape`).

:func:`save` reads and checks every field first and writes nothing if one is wrong
(:class:`FormErrors` maps each bad key to its message in the page's language); only then
does it store the fields whose value changed, each audited, in the caller's transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.channels.settings import SECRET_KEYS
from app.domain.numbers import ValueProblem, parse_number
from app.playbooks import load, setting_templates
from app.playbooks.schema import SettingSpec
from app.playbooks.settings import coerce, effective, reset, set_value
from app.store import portal_settings

NUMBER_KINDS = ("int", "float", "hours", "days", "minutes")
# secrets are never shown; an empty field keeps the stored one

# Column layouts of tables whose rows are objects. ``list`` columns are typed as
# comma-separated text, ``number`` columns like a number field.
ROUTING_COLUMNS = (
    ("name", "text"),
    ("responsible", "number"),
    ("stage", "text"),
    ("regions", "list"),
    ("area_min", "number"),
    ("area_max", "number"),
    ("sources", "list"),
    ("positions", "list"),
    ("managers", "list"),
)
ROW_COLUMNS = {"routing_table": ROUTING_COLUMNS}

UNITS = {
    "hours": ("ч", "hours"),
    "days": ("дн.", "days"),
    "minutes": ("мин", "minutes"),
}


class FormErrors(ValueError):
    """Some fields are wrong: ``errors`` maps key → message; nothing was saved."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _msg(lang: str, ru: str, en: str) -> str:
    return en if lang == "en" else ru


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def table_shape(spec: SettingSpec, value: Any) -> str:
    """How a table setting is edited: ``map`` (key → value rows), ``list`` (one column),
    ``rows`` (objects with named columns) or ``json`` (free-form JSON text)."""
    if spec.key in ROW_COLUMNS:
        return "rows"
    sample = value if value not in (None, [], {}) else spec.default
    if isinstance(spec.default, dict):
        if isinstance(sample, dict) and all(_scalar(v) for v in sample.values()):
            return "map"
        return "json"
    if isinstance(sample, list) and all(_scalar(v) for v in sample):
        return "list"
    return "json"


@dataclass(frozen=True)
class Field:
    """One setting as the form shows it."""

    key: str
    label: str
    kind: str  # number | int | bool | text | template | table
    shape: str  # for tables: map | list | rows | json; "" otherwise
    value: Any  # the effective value (None for a secret)
    overridden: bool
    default: Any
    unit: str
    columns: tuple[tuple[str, str], ...] = ()
    placeholders: tuple[str, ...] = ()
    secret: bool = False


def _kind(playbook: str, spec: SettingSpec) -> str:
    if spec.type == "table":
        return "table"
    if spec.type == "bool":
        return "bool"
    if spec.type == "int":
        return "int"
    if spec.type in NUMBER_KINDS:
        return "number"
    if setting_templates.fields_for(playbook, spec.key) is not None:
        return "template"
    return "text"


def fields(session, member_id: str, playbook: str, lang: str) -> list[Field]:
    """Every setting of ``playbook`` on the portal, ready for the form."""
    overrides = portal_settings.overrides(session, member_id, playbook)
    out = []
    for spec in load(playbook).settings:
        value = overrides.get(spec.key, spec.default)
        kind = _kind(playbook, spec)
        secret = spec.key in SECRET_KEYS
        unit = UNITS.get(spec.type, ("", ""))
        known = setting_templates.fields_for(playbook, spec.key) or ()
        out.append(
            Field(
                key=spec.key,
                label=spec.label.en if lang == "en" else spec.label.ru,
                kind=kind,
                shape=table_shape(spec, value) if kind == "table" else "",
                value=None if secret else value,
                overridden=spec.key in overrides,
                default=None if secret else spec.default,
                unit=unit[1] if lang == "en" else unit[0],
                columns=ROW_COLUMNS.get(spec.key, ()),
                placeholders=tuple(sorted(known)),
                secret=secret,
            )
        )
    return out


# -- reading typed values ----------------------------------------------------------------------


def _number(raw: Any, lang: str, *, whole: bool, negative: bool) -> int | float:
    try:
        number = parse_number(raw, "", allow_negative=negative)
    except ValueProblem as exc:
        raise ValueError(_msg(lang, exc.message_ru, exc.message_en)) from None
    if whole:
        if number != number.to_integral_value():
            raise ValueError(
                _msg(lang, f"«{raw}» — нужно целое число", f"{raw!r}: a whole number is needed")
            )
        return int(number)
    return _plain(number)


def _plain(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


def _cell_scalar(raw: Any) -> Any:
    """A table cell: a number when it reads as one ("12,5" → 12.5), else the text."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    try:
        return _plain(parse_number(text, "", allow_negative=True))
    except ValueProblem:
        return text


def _table(spec: SettingSpec, raw: Any, lang: str) -> Any:
    """A table from the form: ``{"rows": [[cells…]…]}`` for the grid editors, JSON text for
    the free-form one, or the value itself."""
    bad_json = _msg(lang, "Некорректный JSON: ", "Invalid JSON: ")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else type(spec.default)()
        except ValueError as exc:
            raise ValueError(bad_json + str(exc)) from None
    if isinstance(raw, dict) and set(raw) == {"rows"} and isinstance(raw["rows"], list):
        raw = _from_rows(spec, raw["rows"], lang)
    want = dict if isinstance(spec.default, dict) else list
    if not isinstance(raw, want):
        raise ValueError(
            _msg(
                lang,
                "Нужна таблица " + ("«ключ → значение»" if want is dict else "(список)"),
                "A table is needed: " + ("key → value" if want is dict else "a list"),
            )
        )
    if spec.key == "routing_table":
        _check_routing(raw, lang)
    return raw


def _from_rows(spec: SettingSpec, rows: list, lang: str) -> Any:
    shape = table_shape(spec, None)
    cells = [
        [c if isinstance(c, str) else "" for c in row] for row in rows if isinstance(row, list)
    ]
    cells = [row for row in cells if any(c.strip() for c in row)]  # blank rows are dropped
    if shape == "list":
        return [_cell_scalar(row[0]) for row in cells if row and row[0].strip()]
    if shape == "map":
        out: dict[str, Any] = {}
        for row in cells:
            key = (row[0] if row else "").strip()
            if not key:
                raise ValueError(_msg(lang, "В строке таблицы нет ключа", "A table row has no key"))
            if key in out:
                raise ValueError(_msg(lang, f"Ключ «{key}» повторяется", f"Key {key!r} repeats"))
            out[key] = _cell_scalar(row[1] if len(row) > 1 else "")
        return out
    columns = ROW_COLUMNS.get(spec.key, ())
    out_rows = []
    for row in cells:
        item: dict[str, Any] = {}
        for (name, kind), cell in zip(columns, row, strict=False):
            cell = cell.strip()
            if not cell:
                continue
            if kind == "list":
                item[name] = [_cell_scalar(p) for p in cell.split(",") if p.strip()]
            elif kind == "number":
                item[name] = _number(cell, lang, whole=False, negative=False)
            else:
                item[name] = cell
        out_rows.append(item)
    return out_rows


def _check_routing(rows: list, lang: str) -> None:
    from app.domain.routing import rule_from_dict, validate_table

    try:
        rules = [rule_from_dict(r) for r in rows if isinstance(r, dict)]
    except ValueProblem as exc:
        raise ValueError(f"{exc.field}: " + _msg(lang, exc.message_ru, exc.message_en)) from None
    problems = validate_table(rules)
    if problems:
        raise ValueError("; ".join(problems))


def read(playbook: str, spec: SettingSpec, raw: Any, lang: str) -> Any:
    """The typed value of ``raw`` for ``spec``; ValueError with a message in ``lang``."""
    if spec.type in NUMBER_KINDS:
        if isinstance(raw, str) and not raw.strip():
            raise ValueError(_msg(lang, "Не заполнено", "Required"))
        value = _number(raw, lang, whole=spec.type == "int", negative=spec.type == "int")
    elif spec.type == "table":
        value = _table(spec, raw, lang)
    elif spec.type == "bool":
        value = raw
    else:
        value = raw if isinstance(raw, str) else None
    try:
        value = coerce(spec, value)
    except ValueError as exc:
        if spec.type in ("bool", "str"):
            raise ValueError(_msg(lang, "Значение не подходит", "Not a valid value")) from exc
        raise
    try:
        setting_templates.check(playbook, spec.key, value)
    except ValueError as exc:
        raise ValueError(_template_problem(spec.key, str(exc), lang)) from None
    return value


def _template_problem(key: str, text: str, lang: str) -> str:
    """The template check's reason without the key and the (long) list of valid fields,
    which the form shows under the field anyway."""
    reason = text.removeprefix(f"{key}: ").split("; valid:")[0]
    return _msg(lang, "Шаблон не подойдёт: ", "The template will not work: ") + reason


def save(
    session, member_id: str, playbook: str, values: dict, resets, actor, lang: str
) -> dict[str, Any]:
    """Check every field, then store the changed ones (audited by ``actor``); returns
    key → stored value of what changed. :class:`FormErrors` (nothing written) when a field is
    wrong; the caller's transaction makes the writes all-or-nothing."""
    book = load(playbook)
    specs = {s.key: s for s in book.settings}
    current = effective(session, member_id, playbook)
    errors: dict[str, str] = {}
    typed: dict[str, Any] = {}
    for key, raw in (values or {}).items():
        spec = specs.get(key)
        if spec is None:
            errors[key] = _msg(lang, "Нет такой настройки", "No such setting")
            continue
        if key in SECRET_KEYS and raw in ("", None):
            continue  # a secret is never shown: an empty field keeps what is stored
        try:
            typed[key] = read(playbook, spec, raw, lang)
        except ValueError as exc:
            errors[key] = str(exc)
    for key in resets or ():
        if key not in specs:
            errors[key] = _msg(lang, "Нет такой настройки", "No such setting")
    if errors:
        raise FormErrors(errors)
    changed: dict[str, Any] = {}
    for key, value in typed.items():
        if value != current.get(key):
            changed[key] = set_value(session, member_id, playbook, key, value, actor=actor)
    for key in resets or ():
        if key not in typed:
            before = current.get(key)
            default = reset(session, member_id, playbook, key, actor=actor)
            if before != default:
                changed[key] = default
    return changed
