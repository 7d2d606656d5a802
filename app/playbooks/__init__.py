"""The five playbooks as data (one package each, exposing ``PLAYBOOK``) + small rule modules."""

from __future__ import annotations

import dataclasses
import importlib

from app.playbooks.schema import Playbook

NAMES = ("metal", "furniture", "kitchens", "b2b", "eshop")


def load(name: str) -> Playbook:
    """The playbook called ``name``; ValueError for an unknown name. Its settings include
    the client-message channel settings every playbook shares (``app.channels.settings``)."""
    if name not in NAMES:
        raise ValueError(f"unknown playbook {name!r}; known: {', '.join(NAMES)}")
    return _with_channels(importlib.import_module(f"app.playbooks.{name}").PLAYBOOK)


_EXTENDED: dict[int, tuple[Playbook, Playbook]] = {}


def _with_channels(playbook: Playbook) -> Playbook:
    from app.channels.settings import SPECS

    cached = _EXTENDED.get(id(playbook))
    if cached is not None and cached[0] is playbook:
        return cached[1]
    own = {s.key for s in playbook.settings}
    extra = tuple(s for s in SPECS if s.key not in own)
    out = dataclasses.replace(playbook, settings=playbook.settings + extra) if extra else playbook
    _EXTENDED[id(playbook)] = (playbook, out)
    return out


def load_many(names) -> list[Playbook]:
    """Playbooks in a stable order (the order of :data:`NAMES`), duplicates dropped."""
    wanted = set(names)
    unknown = wanted - set(NAMES)
    if unknown:
        raise ValueError(f"unknown playbook(s): {', '.join(sorted(unknown))}")
    return [load(n) for n in NAMES if n in wanted]
