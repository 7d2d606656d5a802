"""Display names robots need to render values: CRM source names and list-field labels."""

from __future__ import annotations

from typing import Any

from app.playbooks import load as load_playbook
from app.portal.errors import PortalError


def source_names(client: Any) -> dict[str, str]:
    """``STATUS_ID → NAME`` of the portal's lead sources (``crm.status.list`` SOURCE)."""
    try:
        rows = client.call(
            "crm.status.list", {"filter": {"ENTITY_ID": "SOURCE"}}, priority="robots"
        )
    except PortalError as exc:
        if exc.retryable:
            raise
        return {}  # no access to the directory: the id is shown instead
    return {str(r.get("STATUS_ID")): str(r.get("NAME")) for r in rows or [] if isinstance(r, dict)}


def enum_labels(naming: Any, playbooks: tuple[str, ...], entity: str) -> dict[str, dict[str, str]]:
    """``field code → {enum id → Russian label}`` for the list fields the installed playbooks
    declare on ``entity``, as far as the portal's schema map knows their ids."""
    enum_id = getattr(naming, "enum_id", None)
    if enum_id is None:
        return {}
    out: dict[str, dict[str, str]] = {}
    for name in playbooks:
        try:
            book = load_playbook(name)
        except (ImportError, ValueError):  # a test-only playbook: no catalogue entry
            continue
        for spec in getattr(book, "fields", ()):
            if spec.entity != entity or not spec.options:
                continue
            for option in spec.options:
                try:
                    real = enum_id(spec.code, option.code, entity=entity)
                except (KeyError, LookupError):
                    continue
                if real is not None:
                    out.setdefault(spec.code, {})[str(real)] = option.label.ru
    return out
