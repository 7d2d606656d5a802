"""Store reads every widget page needs: the portal's naming and people's names.

No portal call: the SchemaMap comes from the installer's records, names and the portal's
clock from ``app.people`` (refreshed by sync and the periodic reconciliation).
"""

from __future__ import annotations

from typing import Any


def naming(session, member_id: str) -> Any:
    """The portal's SchemaMap (stable codes ↔ real field/stage/type names)."""
    from app.installers.mapping import resolve

    return resolve(session, member_id)


def user_name(session, member_id: str, user_id: Any) -> str:
    """«Имя Фамилия» from the portal's people (``app.people``), else ``#id`` ("" when unset)."""
    return people(session, member_id).name(user_id)


def people(session, member_id: str, fallback_zone: Any = None):
    """The portal's people and clock (``app.people.People``): names, times in its zone."""
    from app.people import People

    return People.load(session, member_id, fallback_zone)
