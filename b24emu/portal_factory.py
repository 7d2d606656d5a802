"""Build a ready portal: core state, default users/departments, CRM store, hooks, runtime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle  # noqa: S403 - our own state file, written by this process
import secrets
import time
from typing import Any

from b24emu import events
from b24emu.config import EmuConfig, make_config
from b24emu.core_state import CoreState
from b24emu.faults import Faults
from b24emu.limits import LeakyBucket, OperatingBudget
from b24emu.state import Portal

log = logging.getLogger("b24emu")

DEFAULT_DEPARTMENTS = {
    1: {"ID": "1", "NAME": "ООО «Ромашка»", "SORT": 500, "PARENT": "", "UF_HEAD": "1"},
    2: {"ID": "2", "NAME": "Отдел продаж", "SORT": 500, "PARENT": "1", "UF_HEAD": "2"},
    3: {"ID": "3", "NAME": "Отдел замеров", "SORT": 500, "PARENT": "1", "UF_HEAD": "5"},
}

_USERS = [
    (1, "Администратор", "", "admin@example.ru", "Администратор портала", [1], True),
    (2, "Ольга", "Смирнова", "o.smirnova@example.ru", "Руководитель отдела продаж", [2], False),
    (3, "Иван", "Петров", "i.petrov@example.ru", "Менеджер по продажам", [2], False),
    (4, "Мария", "Кузнецова", "m.kuznetsova@example.ru", "Менеджер по продажам", [2], False),
    (5, "Дмитрий", "Соколов", "d.sokolov@example.ru", "Замерщик", [3], False),
]


def default_users() -> dict[int, dict[str, Any]]:
    """User rows in ``user.get`` shape (plus ``ADMIN`` for the core's permission checks)."""
    users = {}
    for uid, name, last, email, position, deps, admin in _USERS:
        users[uid] = {
            "ID": str(uid),
            "ACTIVE": True,
            "NAME": name,
            "LAST_NAME": last,
            "SECOND_NAME": "",
            "EMAIL": email,
            "WORK_POSITION": position,
            "PERSONAL_GENDER": "",
            "UF_DEPARTMENT": deps,
            "USER_TYPE": "employee",
            "ADMIN": admin,
            "TIME_ZONE": "",
        }
    return users


class Runtime:
    """Non-persistent machinery of a running portal (limiters, faults, outbox, timers)."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.bucket = LeakyBucket()
        self.budget = OperatingBudget()
        self.faults = Faults(portal.core.faults)
        self.outbox = events.Outbox(portal)
        self._timer: asyncio.Task[Any] | None = None

    async def start(self) -> None:
        await self.outbox.start()
        self._timer = asyncio.get_running_loop().create_task(self._tick())

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        await self.outbox.stop()
        self.save_state()

    async def _tick(self) -> None:
        """Robot timeouts every 0.2 s; state file every ``state_save_interval`` seconds."""
        from b24emu import robots

        ticks = 0
        last_save = time.monotonic()
        while True:
            await asyncio.sleep(0.2)
            ticks += 1
            try:
                robots.expire_runs(self.portal)
                if ticks % 300 == 0:  # once a minute
                    self.prune_tokens()
                config = self.portal.core.config
                if config.state_file and time.monotonic() - last_save >= config.state_save_interval:
                    last_save = time.monotonic()
                    self.save_state()
            except Exception:
                log.exception("periodic task failed")

    def prune_tokens(self) -> None:
        """Drop access tokens expired for over an hour (every event mints one)."""
        core = self.portal.core
        horizon = self.portal.clock.now() - 3600
        for key in [k for k, t in core.tokens.items() if t.expires_at < horizon]:
            del core.tokens[key]

    def save_state(self) -> None:
        path = self.portal.core.config.state_file
        if path:
            save_state(self.portal, path)


def wire(portal: Portal) -> Portal:
    """Attach runtime and hooks to a portal (fresh or loaded from a state file)."""
    from b24emu import robots

    portal.runtime = Runtime(portal)  # type: ignore[attr-defined]
    portal.emit = lambda name, data, user_id=None: events.emit(portal, name, data, user_id)  # type: ignore[method-assign]
    portal.stage_entered = lambda etid, item_id, category_id, stage_id, user_id=None: (
        robots.stage_entered(  # type: ignore[method-assign]
            portal, etid, item_id, category_id, stage_id, user_id
        )
    )
    return portal


def new_portal(
    config: EmuConfig | None = None, *, domain: str = "127.0.0.1:8900", **overrides: Any
) -> Portal:
    """A fresh portal with default users, departments and (when present) the CRM store."""
    config = config or make_config()
    if overrides:
        config.update(**overrides)
    portal = Portal(member_id=secrets.token_hex(16), domain=domain)
    portal.users = default_users()
    portal.departments = {k: dict(v) for k, v in DEFAULT_DEPARTMENTS.items()}
    portal.core = CoreState(config=config)
    wire(portal)
    try:
        from b24emu.crm.store import CrmStore
    except ImportError:  # EMU-CRM's store not written yet
        CrmStore = None  # noqa: N806
    if CrmStore is not None:
        portal.crm = CrmStore(portal)
    return portal


def save_state(portal: Portal, path: str) -> None:
    """Atomically pickle the portal (``Portal.__getstate__`` leaves out runtime and hooks)."""
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as fh:
        pickle.dump(portal, fh)
    os.replace(tmp, path)


def load_state(path: str) -> Portal:
    """A portal restored from :func:`save_state`, re-wired with a fresh runtime."""
    with open(path, "rb") as fh:
        portal = pickle.load(fh)  # noqa: S301 - trusted local file
    return wire(portal)
