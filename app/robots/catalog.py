"""Which robot modules can run: every ``app.robots`` module with ``SPEC`` and ``run``.

(``app.robots.registry`` lists the specs for the installer; this lists the runnable modules
for the runtime, plus in-memory robots tests register.)
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from types import ModuleType
from typing import Any


@lru_cache(maxsize=1)
def _modules() -> dict[str, ModuleType]:
    import app.robots as package

    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"app.robots.{info.name}")
        spec = getattr(module, "SPEC", None)
        if spec is not None and callable(getattr(module, "run", None)):
            found[spec.code] = module
    return found


_REGISTERED: dict[str, Any] = {}


def register(robot: Any) -> None:
    """Add an in-memory robot (anything with ``SPEC`` and ``run``) — for tests."""
    _REGISTERED[robot.SPEC.code] = robot


def unregister(code: str) -> None:
    _REGISTERED.pop(code, None)


def robot_module(code: str) -> Any:
    """The module of robot ``code`` that can run (has ``SPEC`` and ``run``), or None."""
    code = code.lower()
    return _REGISTERED.get(code) or _modules().get(code)
