"""The five playbooks as data (one package each, exposing ``PLAYBOOK``) + small rule modules."""

from __future__ import annotations

import importlib

from app.playbooks.schema import Playbook

NAMES = ("metal", "furniture", "kitchens", "b2b", "eshop")


def load(name: str) -> Playbook:
    """The playbook called ``name``; ValueError for an unknown name."""
    if name not in NAMES:
        raise ValueError(f"unknown playbook {name!r}; known: {', '.join(NAMES)}")
    return importlib.import_module(f"app.playbooks.{name}").PLAYBOOK


def load_many(names) -> list[Playbook]:
    """Playbooks in a stable order (the order of :data:`NAMES`), duplicates dropped."""
    wanted = set(names)
    unknown = wanted - set(NAMES)
    if unknown:
        raise ValueError(f"unknown playbook(s): {', '.join(sorted(unknown))}")
    return [load(n) for n in NAMES if n in wanted]
