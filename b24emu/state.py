"""In-memory state of one emulated portal, and the seams between its parts.

Ownership (so the parts can be built and tested independently):

* ``Portal`` itself, users/departments, apps, tokens, webhooks, event bindings, the offline
  queue, robots, faults, clock and the request log belong to the core (``server.py``,
  ``oauth.py``, ``events.py``, ``robots.py``, ``apps.py``, ``admin.py``).
* ``portal.crm`` (a ``b24emu.crm.store.CrmStore``) holds everything CRM: items of every
  entity type, statuses/stages, categories, smart-process types, user fields, activities,
  timeline comments, tasks, notifications, duplicates index. CRM method modules live in
  ``b24emu/methods/crm_*.py``, ``tasks.py``, ``im.py``, ``users.py``.

CRM code reports what happened through the two hooks below; the core turns them into
outbound event POSTs / offline rows and robot runs. CRM code never does I/O itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

EventHook = Callable[[str, dict[str, Any], int | None], None]
"""``emit(event_name_upper, data, triggering_user_id_or_None)`` — e.g.
``emit("ONCRMLEADADD", {"FIELDS": {"ID": "17"}}, 1)``."""

StageHook = Callable[[int, int, int | None, str, int | None], None]
"""``stage_entered(entity_type_id, item_id, category_id, stage_id, user_id)`` — called after
a record is created in, or moved to, a stage (robots placed on that stage then run)."""


@dataclass
class Clock:
    """Portal time. ``offset`` (seconds) lets tests move the portal's clock forward."""

    offset: float = 0.0

    def now(self) -> float:
        return time.time() + self.offset


def _noop_emit(name: str, data: dict[str, Any], user_id: int | None) -> None:
    return None


def _noop_stage(
    etid: int, item_id: int, category_id: int | None, stage_id: str, user_id: int | None
) -> None:
    return None


@dataclass
class Portal:
    """One portal. Created by ``b24emu.portal_factory.new_portal(config)``."""

    member_id: str
    domain: str  # host[:port] as the app sees it, e.g. "127.0.0.1:8900"
    scheme: str = "http"
    clock: Clock = field(default_factory=Clock)
    timezone_offset: str = "+03:00"  # portal server TZ used for ISO datetimes
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    departments: dict[int, dict[str, Any]] = field(default_factory=dict)
    crm: Any = None  # b24emu.crm.store.CrmStore
    core: Any = None  # core-owned state (apps, tokens, webhooks, bindings, robots, faults, logs)
    emit: EventHook = _noop_emit
    stage_entered: StageHook = _noop_stage

    def __getstate__(self) -> dict[str, Any]:
        """Pickle data only: the runtime machinery and the hooks are re-attached on load."""
        state = dict(self.__dict__)
        for key in ("runtime", "emit", "stage_entered"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.emit = _noop_emit
        self.stage_entered = _noop_stage

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    @property
    def client_endpoint(self) -> str:
        return f"{self.base_url}/rest/"
