"""Playbook settings: typed defaults from the playbook data, overrides stored per portal.

``effective(session, member_id, playbook)`` is what rules see; ``set_value`` validates the
type (and a template's placeholders, ``setting_templates``) before storing, so a bad value
never reaches a rule; ``reset`` drops an override so the default applies again;
``describe`` lists every setting with its label, unit and an example of its shape.
Given an ``actor`` (``app.store.setting_changes.Actor``), ``set_value`` and ``reset`` also
write the audit line (old → new) in the caller's transaction, so both land or neither.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.playbooks import load, setting_templates
from app.playbooks.schema import SettingSpec
from app.store import portal_settings, setting_changes

_NUMERIC = {"int": int, "hours": (int, float), "days": (int, float), "minutes": (int, float)}


def coerce(spec: SettingSpec, value: Any) -> Any:
    """``value`` converted to the setting's type; ValueError with the reason otherwise."""
    kind = spec.type
    try:
        if kind == "bool":
            if isinstance(value, str):
                if value.lower() in ("y", "yes", "true", "1"):
                    return True
                if value.lower() in ("n", "no", "false", "0", ""):
                    return False
                raise ValueError
            return bool(value)
        if kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if kind in ("float", "hours", "days", "minutes"):
            number = float(value)
            if number < 0:
                raise ValueError
            return int(number) if number.is_integer() and kind != "float" else number
        if kind == "str":
            if not isinstance(value, str):
                raise ValueError
            return value
        if kind == "table":
            if not isinstance(value, dict | list):
                raise ValueError
            return value
    except (TypeError, ValueError):
        pass
    raise ValueError(f"setting {spec.key}: {value!r} is not a valid {kind}")


def defaults(playbook: str) -> dict[str, Any]:
    return {s.key: s.default for s in load(playbook).settings}


def effective(session, member_id: str, playbook: str) -> dict[str, Any]:
    """Defaults overlaid with this portal's stored overrides (unknown keys ignored)."""
    specs = {s.key: s for s in load(playbook).settings}
    out = {k: s.default for k, s in specs.items()}
    for key, value in portal_settings.overrides(session, member_id, playbook).items():
        if key in specs:
            out[key] = value
    return out


def set_value(session, member_id: str, playbook: str, key: str, value: Any, *, actor=None) -> Any:
    """Validate and store one override; returns the stored (coerced) value. With ``actor``
    a change (not a re-save of the same value) is audited."""
    spec = load(playbook).setting(key)
    coerced = coerce(spec, value)
    setting_templates.check(playbook, key, coerced)
    old = _current(session, member_id, playbook, spec)
    portal_settings.put(session, member_id, playbook, key, coerced)
    if actor is not None and old != coerced:
        setting_changes.record(session, member_id, playbook, key, old, coerced, actor)
    return coerced


def reset(session, member_id: str, playbook: str, key: str, *, actor=None) -> Any:
    """Drop this portal's override of ``key``; returns the default that applies again.
    With ``actor`` a reset that changes the effective value is audited."""
    spec = load(playbook).setting(key)  # KeyError for unknown keys
    old = _current(session, member_id, playbook, spec)
    portal_settings.drop(session, member_id, playbook, key)
    if actor is not None and old != spec.default:
        setting_changes.record(session, member_id, playbook, key, old, spec.default, actor)
    return spec.default


def _current(session, member_id: str, playbook: str, spec: SettingSpec) -> Any:
    """The value in effect now (the override, else the default)."""
    return portal_settings.overrides(session, member_id, playbook).get(spec.key, spec.default)


UNITS = {"hours": "hours", "days": "days", "minutes": "minutes"}
KINDS = {"int": "whole number", "float": "number", "str": "text", "bool": "yes/no"}


@dataclass(frozen=True)
class Described:
    """One setting as an operator sees it."""

    key: str
    value: Any
    overridden: bool
    label: str  # "Title template / Шаблон названия"
    kind: str  # "days", "text", "JSON list" …
    example: str  # a value of the right shape, as --set takes it


def _example(key: str, kind: str, default: Any) -> str:
    if default not in (None, "", [], {}):
        return json.dumps(default, ensure_ascii=False) if kind == "table" else str(default)
    if kind == "table":
        if key.endswith("_user_ids"):
            return "[5, 7]"
        if key in ("holidays", "extra_workdays"):
            return '["2027-01-01", "2027-01-02"]'
        return "[]" if isinstance(default, list) else "{}"
    return {"int": "5", "float": "1.5", "bool": "true", "str": '"text"'}.get(kind, "1")


def describe(session, member_id: str, playbook: str) -> list[Described]:
    """Every setting of ``playbook`` on the portal: value, label, unit and an example."""
    overrides = portal_settings.overrides(session, member_id, playbook)
    out = []
    for spec in load(playbook).settings:
        kind = UNITS.get(spec.type) or KINDS.get(spec.type)
        if kind is None:  # table
            kind = "JSON list" if isinstance(spec.default, list) else "JSON object"
        if setting_templates.fields_for(playbook, spec.key) is not None:
            kind = "template"
        out.append(
            Described(
                key=spec.key,
                value=overrides.get(spec.key, spec.default),
                overridden=spec.key in overrides,
                label=f"{spec.label.en} / {spec.label.ru}",
                kind=kind,
                example=_example(spec.key, spec.type, spec.default),
            )
        )
    return out


def all_effective(session, member_id: str, playbooks) -> dict[str, dict[str, Any]]:
    """playbook → its effective settings, for every playbook installed on the portal."""
    return {name: effective(session, member_id, name) for name in playbooks}
