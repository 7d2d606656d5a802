"""The robot contract: what a robot module provides and what it gets.

A robot is one module in ``app/robots/`` with:

* ``SPEC: RobotSpec`` — code, names, typed properties and return properties (the installer
  registers it with ``bizproc.robot.add``; the runtime parses the posted properties by it);
* ``run(inp: RobotInput) -> RobotResult`` — pure: no I/O, no clock (use ``inp.now``). Bad
  input → ``raise RobotInputError("clear text")``: the portal gets the text in
  ``log_message`` and in the ``error`` return value, and nothing is changed;
* optionally ``NEEDS: tuple[str, ...]`` — related records the default loader fetches with the
  document (``"company"``, ``"contacts"``, ``"parent:deal"`` … as in ``Rule.needs``);
* optionally ``load(env: LoadEnv) -> Loaded`` — a custom gather step when the default (the
  document + ``NEEDS`` in one batch) is not enough. It may call the portal through
  ``env.client``; it must not change anything.

Side effects are the ``actions`` of the result (``app.rules.actions``); the runtime applies
them with idempotency keys derived from the call's event token, so a replayed call never
repeats them. Example::

    SPEC = RobotSpec(code="hello", names={"ru": "Привет", "en": "Hello"},
                     returns=(PropertySpec("greeting", {"ru": "Текст", "en": "Text"}, "string"),))

    def run(inp):
        title = (inp.record or {}).get("title") or ""
        return RobotResult(returns={"greeting": f"Hello, {title}"},
                           actions=(TimelineComment(inp.entity, inp.document.record_id, "hi"),))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.robots.documents import Document, Loaded
from app.rules.actions import Action

__all__ = ["Loaded", "LoadEnv", "RobotInput", "RobotInputError", "RobotResult", "setting_of"]


class RobotInputError(ValueError):
    """The robot cannot work with what it was given; ``str()`` is shown to the portal user
    (Russian with an English gloss, like ``app.domain`` errors)."""


def setting_of(
    settings: Mapping[str, Mapping[str, Any]], playbooks: tuple[str, ...], key: str, default=None
) -> Any:
    """``key`` from the first installed playbook whose settings define it."""
    for playbook in playbooks:
        values = settings.get(playbook) or {}
        if key in values:
            return values[key]
    return default


@dataclass(frozen=True)
class LoadEnv:
    """What a custom ``load`` gets: the portal client (reads only), naming, the document,
    the parsed properties and the portal's settings by playbook."""

    client: Any
    naming: Any
    document: Document
    entity: str
    props: Mapping[str, Any]
    settings: Mapping[str, Mapping[str, Any]]
    playbooks: tuple[str, ...]

    def setting(self, key: str, default: Any = None) -> Any:
        return setting_of(self.settings, self.playbooks, key, default)


@dataclass(frozen=True)
class RobotInput:
    """What ``run`` gets. ``record``/``related`` are snapshots keyed by stable codes
    (``"UF_CRM_MT_AREA"``, ``"title"``, ``"assignedById"``; ``stageId`` a stable stage code)."""

    code: str
    document: Document
    entity: str
    props: Mapping[str, Any]
    record: Mapping[str, Any] | None
    related: Mapping[str, Any]
    extra: Mapping[str, Any]
    settings: Mapping[str, Mapping[str, Any]]
    playbooks: tuple[str, ...]
    naming: Any
    now: datetime
    user_id: int | None = None  # the user the portal ran the robot for

    def setting(self, key: str, default: Any = None) -> Any:
        return setting_of(self.settings, self.playbooks, key, default)


@dataclass(frozen=True)
class RobotResult:
    """Return values (codes of ``SPEC.returns``), actions to apply, and a log line."""

    returns: Mapping[str, Any] = field(default_factory=dict)
    actions: tuple[Action, ...] = ()
    log: str = ""
