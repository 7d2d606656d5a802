"""Everything a sync/rules job needs for one portal, gathered in one place.

This is the only module of the events/rules/sync code that knows how the foundation's
``Services``, the gateway's ``client_for``, the installer's ``resolve`` and the installation
store are spelled; the rest takes a :class:`PortalContext`. Tests build a PortalContext
directly with fakes or the emulator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.rules.dispatch import DispatchTable, table_for
from app.rules.naming import Naming, naming_for


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class PortalContext:
    member_id: str
    session_factory: Callable[[], Any]
    client: Any
    naming: Naming
    redis: Any
    playbooks: tuple[str, ...] = ()
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # by playbook
    now: Callable[[], datetime] = _utcnow
    table: DispatchTable = field(init=False)

    def __post_init__(self) -> None:
        self.table = table_for(self.playbooks)


def portal_context(services: Any, member_id: str) -> PortalContext:
    """Build the context of ``member_id`` from the worker's/app's ``Services``."""
    from app.portal import client_for

    session_factory = session_factory_of(services)
    with session_factory() as session:
        installation = _installation(session, member_id)
        schema = _schema(session, member_id)
    return PortalContext(
        member_id=member_id,
        session_factory=session_factory,
        client=client_for(member_id, services),
        naming=naming_for(schema),
        redis=services.redis,
        playbooks=tuple(_playbooks(installation)),
        settings=_settings(installation),
    )


def session_factory_of(services: Any) -> Callable[[], Any]:
    for name in ("session_factory", "sessions", "Session", "sessionmaker"):
        value = getattr(services, name, None)
        if callable(value):
            return value
    raise AttributeError("Services exposes no session factory")


def _installation(session: Any, member_id: str) -> Any:
    from app.store import installations

    for name in ("get_by_member_id", "get", "find", "by_member_id", "load"):
        fn = getattr(installations, name, None)
        if callable(fn):
            return fn(session, member_id)
    raise AttributeError("app.store.installations has no lookup by member_id")


def _schema(session: Any, member_id: str) -> Any:
    try:
        from app.installers.mapping import resolve
    except ImportError:
        return None
    return resolve(session, member_id)


def _playbooks(installation: Any) -> list[str]:
    value = getattr(installation, "playbooks", None) or []
    if isinstance(value, str):
        return [p for p in value.replace(",", " ").split() if p]
    return list(value)


def _settings(installation: Any) -> dict[str, dict[str, Any]]:
    value = getattr(installation, "settings", None) or getattr(
        installation, "playbook_settings", None
    )
    return dict(value) if isinstance(value, Mapping) else {}
