"""Field-name conversion between UPPER_CASE (legacy, DB) and camelCase (``crm.item.*``).

Follows the portal's converter (protocol doc §7.7) including its edge cases:
``UF_CRM_7_NEW_REST_LIST → ufCrm7NewRestList``, ``UF_CRM_7_1739432938 → ufCrm7_1739432938``,
``UF_CRM_1721244707107 → ufCrm_1721244707107``, ``UF_CRM_3_DIGIT10 → ufCrm_3_DIGIT10``.
"""

from __future__ import annotations

import re

_REGULAR = (
    re.compile(r"^[A-Z_]+$"),
    re.compile(r"^UF_CRM_\d{1,4}_[\d_]+$"),
    re.compile(r"^UF_CRM_\d{1,4}_[A-Z_]+$"),
)
_DIGIT_UNDERSCORE = re.compile(r"(?<=\d)_(?=\d)")
_PROTECT = "\x00"


def snake_to_camel(name: str) -> str:
    """``ASSIGNED_BY_ID → assignedById``, ``PARENT_ID_1220 → parentId1220``."""
    parts = [p for p in name.lower().split("_") if p != ""]
    if not parts:
        return name.lower()
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def camel_to_snake(name: str) -> str:
    """``assignedById → ASSIGNED_BY_ID``, ``parentId1220 → PARENT_ID_1220``."""
    out = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    out = re.sub(r"(?<=[A-Za-z])(\d)", r"_\1", out)
    return out.upper()


def uf_to_camel(upper: str) -> str:
    """The camelCase alias of a user field (no collision handling; see :func:`uf_aliases`)."""
    if any(rx.match(upper) for rx in _REGULAR):
        protected = _DIGIT_UNDERSCORE.sub(_PROTECT, upper)
        return snake_to_camel(protected).replace(_PROTECT, "_")
    if upper.startswith("UF_CRM_"):
        return "ufCrm_" + upper[len("UF_CRM_") :]
    if upper.startswith("UF_CRM"):
        return "ufCrm" + upper[len("UF_CRM") :]
    if upper.startswith("UF_"):
        return "uf" + upper[len("UF_") :]
    return upper


def uf_aliases(upper_names: list[str], taken: set[str]) -> dict[str, str]:
    """UPPER → camel for every user field of a type.

    When two fields (or a system field) would share a camel name the UPPER name is kept
    unchanged for the later one, like the portal does.
    """
    result: dict[str, str] = {}
    used = set(taken)
    for upper in upper_names:
        camel = uf_to_camel(upper)
        if camel in used:
            camel = upper
        used.add(camel)
        result[upper] = camel
    return result
