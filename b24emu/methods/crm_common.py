"""Shared helpers of the CRM method modules (no REST methods here).

D7-style methods (``crm.item.*``, ``crm.type.*``, ``crm.category.*``) report store errors
with their code; legacy methods (``crm.lead.*`` ..., ``crm.status.*``) use ``error: ""``.
"""

from __future__ import annotations

from typing import Any

from b24emu.crm import CrmStore
from b24emu.crm.errors import CrmError
from b24emu.registry import Call, RestError

KIND_TYPES = {"fm": "crm_multifield"}


def crm(call: Call) -> CrmStore:
    """The portal's CRM store (created on first use if the portal factory did not)."""
    if call.portal.crm is None:
        CrmStore(call.portal)
    return call.portal.crm


def d7_param(call: Call, name: str) -> Any:
    """A required D7 controller parameter (``100`` "Could not find value for parameter")."""
    value = call.param(name)
    if value is None or value == "":
        raise RestError("100", f"Could not find value for parameter {{{name}}}")
    return value


def int_param(call: Call, name: str, *, d7: bool = True) -> int:
    value = d7_param(call, name) if d7 else call.param(name)
    try:
        return int(value)
    except (TypeError, ValueError):
        if d7:
            raise RestError("100", f"Invalid value for parameter {{{name}}}") from None
        raise RestError("", "ID is not defined or invalid.") from None


def d7_error(exc: CrmError) -> RestError:
    return RestError(exc.code, exc.message)


def legacy_error(exc: CrmError, upper_name: str | None = None) -> RestError:
    """Legacy envelope: empty code; field errors name the UPPER_CASE field."""
    if exc.code == "NOT_FOUND":
        return RestError("", "Not found")
    message = exc.message
    if exc.field and upper_name:
        message = message.replace(f'"{exc.field}"', f'"{upper_name}"')
    return RestError("", message)


def is_yes(value: Any) -> bool:
    return value is True or str(value).upper() in ("Y", "1", "TRUE")


def field_description(
    kind: str,
    *,
    readonly: bool,
    multiple: bool,
    title: str,
    required: bool = False,
    immutable: bool = False,
    dynamic: bool = False,
) -> dict[str, Any]:
    return {
        "type": KIND_TYPES.get(kind, kind),
        "isRequired": required,
        "isReadOnly": readonly,
        "isImmutable": immutable,
        "isMultiple": multiple,
        "isDynamic": dynamic,
        "title": title,
    }


def label_of(labels: dict[str, Any] | None, fallback: str) -> str:
    labels = labels or {}
    return labels.get("en") or next((v for v in labels.values() if v), None) or fallback


def dict_param(call: Call, name: str, default: dict[str, Any] | None = None) -> dict[str, Any]:
    """A filter/order-like parameter as a dict (forms may turn ``{"0": …}`` into a list;
    anything else counts as absent, like PHP ignoring a non-array)."""
    value = call.param(name)
    if isinstance(value, list):
        value = {str(i): v for i, v in enumerate(value)}
    return value if isinstance(value, dict) and value else dict(default or {})


def list_param(call: Call, name: str) -> list[Any]:
    """A select-like parameter as a list (a single string is one entry)."""
    value = call.param(name)
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    return [] if value in (None, "") else [value]
