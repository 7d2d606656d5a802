"""What a robot declares to the portal: localized names and typed (return) properties.

``RobotSpec.wire(handler)`` renders the ``bizproc.robot.add`` parameters; the installer
uses it, the robot handler uses the property types to parse what the portal posts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PROPERTY_TYPES = frozenset(
    {"bool", "date", "datetime", "double", "int", "select", "string", "text", "user"}
)


@dataclass(frozen=True)
class PropertySpec:
    code: str
    names: Mapping[str, str]  # {"ru": ..., "en": ...}
    type: str
    required: bool = False
    multiple: bool = False
    default: Any = None
    options: Mapping[str, str] = field(default_factory=dict)  # select: value → title
    descriptions: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in PROPERTY_TYPES:
            raise ValueError(f"property {self.code}: unknown type {self.type!r}")
        if not self.code[:1].isalpha() or not self.code.replace("_", "").isalnum():
            raise ValueError(f"property code {self.code!r} must match ^[a-z][a-z0-9_]*$")
        if (self.type == "select") != bool(self.options):
            raise ValueError(f"property {self.code}: options go with type select only")

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Name": dict(self.names),
            "Type": self.type,
            "Required": "Y" if self.required else "N",
            "Multiple": "Y" if self.multiple else "N",
        }
        if self.descriptions:
            out["Description"] = dict(self.descriptions)
        if self.options:
            out["Options"] = dict(self.options)
        if self.default is not None:
            out["Default"] = self.default
        return out


@dataclass(frozen=True)
class RobotSpec:
    code: str
    names: Mapping[str, str]
    descriptions: Mapping[str, str] = field(default_factory=dict)
    properties: tuple[PropertySpec, ...] = ()
    returns: tuple[PropertySpec, ...] = ()
    # Record fields this robot may write (stable codes, ``fnmatch`` patterns such as
    # ``UF_CRM_*``). A robot call cannot always be verified before it runs (see
    # app.robots.runtime), so whatever its properties say, it writes only these.
    writes: tuple[str, ...] = ()

    def may_write(self, field_code: str) -> bool:
        from fnmatch import fnmatchcase

        return any(fnmatchcase(str(field_code), pattern) for pattern in self.writes)

    def __post_init__(self) -> None:
        allowed = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        if not self.code or not set(self.code) <= allowed:
            raise ValueError(f"robot code {self.code!r} must match ^[a-z0-9.\\-_]+$")

    def wire(self, handler: str, auth_user_id: int = 1) -> dict[str, Any]:
        """Parameters of ``bizproc.robot.add`` (without ``CODE``/``HANDLER`` duplication)."""
        return {
            "CODE": self.code,
            "HANDLER": handler,
            "AUTH_USER_ID": auth_user_id,
            "USE_SUBSCRIPTION": "Y",
            "NAME": dict(self.names),
            "DESCRIPTION": dict(self.descriptions),
            "PROPERTIES": {p.code: p.wire() for p in self.properties},
            "RETURN_PROPERTIES": {p.code: p.wire() for p in self.returns},
        }

    def fingerprint(self, handler: str, auth_user_id: int = 1) -> str:
        """Changes whenever what the portal would store changes (to decide on update)."""
        blob = json.dumps(self.wire(handler, auth_user_id), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]
