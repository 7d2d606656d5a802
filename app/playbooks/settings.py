"""Playbook settings: typed defaults from the playbook data, overrides stored per portal.

``effective(session, member_id, playbook)`` is what rules see; ``set_value`` validates the
type before storing so a bad value never reaches a rule.
"""

from __future__ import annotations

from typing import Any

from app.playbooks import load
from app.playbooks.schema import SettingSpec
from app.store import portal_settings

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


def set_value(session, member_id: str, playbook: str, key: str, value: Any) -> Any:
    """Validate and store one override; returns the stored (coerced) value."""
    spec = load(playbook).setting(key)
    coerced = coerce(spec, value)
    portal_settings.put(session, member_id, playbook, key, coerced)
    return coerced


def reset(session, member_id: str, playbook: str, key: str) -> None:
    load(playbook).setting(key)  # KeyError for unknown keys
    portal_settings.drop(session, member_id, playbook, key)


def all_effective(session, member_id: str, playbooks) -> dict[str, dict[str, Any]]:
    """playbook → its effective settings, for every playbook installed on the portal."""
    return {name: effective(session, member_id, name) for name in playbooks}
