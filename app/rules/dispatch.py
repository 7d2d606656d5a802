"""The dispatch table: which rules see a change on a portal.

A portal runs the playbooks installed on it. The rules of playbook ``p`` are the ``RULES``
lists of every ``app/playbooks/p/rules*.py`` module (found with ``pkgutil``; see
``app/rules/__init__.py``). Tests register extra playbooks with :func:`register` instead of
writing modules.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import pkgutil
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from app.rules.model import Change, Rule

log = logging.getLogger(__name__)

_REGISTERED: dict[str, tuple[Rule, ...]] = {}


def register(playbook: str, rules: Iterable[Rule]) -> None:
    """Add (or replace) an in-memory playbook's rules — for tests and experiments."""
    _REGISTERED[playbook] = tuple(_owned(playbook, rules))
    playbook_rules.cache_clear()


def unregister(playbook: str) -> None:
    _REGISTERED.pop(playbook, None)
    playbook_rules.cache_clear()


def _owned(playbook: str, rules: Iterable[Rule]) -> list[Rule]:
    return [r if r.playbook else dataclasses.replace(r, playbook=playbook) for r in rules]


@lru_cache(maxsize=64)
def playbook_rules(playbook: str) -> tuple[Rule, ...]:
    """Every rule of ``playbook``: registered ones, else its ``rules*.py`` modules."""
    if playbook in _REGISTERED:
        return _REGISTERED[playbook]
    try:
        package = importlib.import_module(f"app.playbooks.{playbook}")
    except ModuleNotFoundError:
        log.warning("playbook %s has no package app.playbooks.%s; no rules", playbook, playbook)
        return ()
    found: list[Rule] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.name.startswith("rules"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.extend(_owned(playbook, getattr(module, "RULES", ())))
    names = [r.name for r in found]
    if len(names) != len(set(names)):
        raise ValueError(f"playbook {playbook} has duplicate rule names: {sorted(names)}")
    return tuple(found)


@dataclass(frozen=True)
class DispatchTable:
    """The rules of one portal, in a stable order (playbook, then module, then list order),
    and the playbooks installed there (what record ownership chooses from)."""

    rules: tuple[Rule, ...]
    playbooks: tuple[str, ...] = ()

    def for_change(self, change: Change) -> list[Rule]:
        return [r for r in self.rules if r.applies_to(change)]

    def entities(self) -> frozenset[str]:
        return frozenset(r.entity for r in self.rules)


def table_for(playbooks: Iterable[str]) -> DispatchTable:
    """The dispatch table of a portal with ``playbooks`` installed."""
    rules: list[Rule] = []
    names = sorted(set(playbooks))
    for name in names:
        rules.extend(playbook_rules(name))
    return DispatchTable(tuple(rules), tuple(names))
