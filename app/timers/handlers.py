"""What the timer job must gather for a timer kind before the rules decide.

The handler of a timer kind is a rule with ``on_timer(kind)`` in a playbook's ``RULES``
(pure, like every rule). Rules cannot do I/O, so a kind registers here which audience roles
(``"sales"``, ``"head_of_sales"``, ``"ceo"``, ``"store_manager"`` …) the job resolves to user
ids first; the rule finds them in ``ctx.related["audiences"][role]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Roles = Callable[[Mapping[str, Any]], Iterable[str]]


@dataclass(frozen=True)
class TimerKind:
    kind: str
    roles: Roles


_KINDS: dict[str, TimerKind] = {}


def register_kind(kind: str, roles: Iterable[str] | Roles = ()) -> TimerKind:
    """Declare ``kind``; ``roles`` is a tuple or ``settings -> roles`` (audiences may be
    settings, e.g. the SOS circles)."""
    fn: Roles = roles if callable(roles) else (lambda _s, fixed=tuple(roles): fixed)
    spec = TimerKind(kind, fn)
    _KINDS[kind] = spec
    return spec


def roles_for(kind: str, settings: Mapping[str, Any]) -> frozenset[str]:
    spec = _KINDS.get(kind)
    return frozenset(spec.roles(settings)) if spec else frozenset()


def known_kinds() -> tuple[str, ...]:
    return tuple(sorted(_KINDS))
