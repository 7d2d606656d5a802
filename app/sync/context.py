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
    # Records the portal created before this moment (the installation) are not "created"
    # when we first see them; None treats every unknown record as new.
    baseline: datetime | None = None
    # the installation has offline events (an OAuth app): drain rounds may carry the
    # offline check (app.sync.ridealong)
    offline_checks: bool = False
    # the auth_connector key the offline events are bound with (app.sync.connector), or None
    connector: str | None = None
    table: DispatchTable = field(init=False)

    def __post_init__(self) -> None:
        self.table = table_for(self.playbooks)


def portal_context(services: Any, member_id: str) -> PortalContext:
    """Build the context of ``member_id`` from the worker's/app's ``Services``."""
    from app.store import installations
    from app.sync import connector

    client = services.portal(member_id)
    with services.session() as session:
        row = installations.get(session, member_id)
        if row is None:
            raise installations.InstallationNotFound(member_id)
        playbooks = tuple(row.playbooks or ())
        baseline = row.created_at
        offline_checks = row.auth_mode == "oauth"
        key = connector.active(session, member_id) if offline_checks else None
        settings = {pb: _settings(session, member_id, pb, row) for pb in playbooks}
        schema = _schema(session, member_id)
    return PortalContext(
        member_id=member_id,
        session_factory=services.session,
        client=connector.ConnectorClient(client, key) if key else client,
        naming=naming_for(schema),
        redis=services.redis,
        playbooks=playbooks,
        settings=settings,
        baseline=baseline,
        offline_checks=offline_checks,
        connector=key,
    )


def _schema(session: Any, member_id: str) -> Any:
    """The installer's SchemaMap of the portal (None until the installer exists/ran)."""
    try:
        from app.installers.mapping import resolve
    except ImportError:
        return None
    return resolve(session, member_id)


def _settings(session: Any, member_id: str, playbook: str, row: Any) -> dict[str, Any]:
    """Effective settings of one playbook: its typed defaults + the portal's overrides;
    for a playbook the catalogue does not know (tests), what the installation row holds."""
    try:
        from app.playbooks.settings import effective

        return effective(session, member_id, playbook)
    except (ImportError, ValueError):
        stored = (row.playbook_settings or {}).get(playbook)
        return dict(stored) if isinstance(stored, Mapping) else {}
