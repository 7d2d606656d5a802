"""Building blocks shared by the five playbooks' data (events every playbook needs, colours)."""

from __future__ import annotations

from app.playbooks.schema import EventSpec, Text

GREY, BLUE, CYAN, TEAL, YELLOW, ORANGE = (
    "#A8ADB4",
    "#39A8EF",
    "#2FC6F6",
    "#55D0E0",
    "#FFA900",
    "#FF8F4A",
)
PURPLE, GREEN, RED = "#A889F3", "#7BD500", "#FF5752"


def crm_events(*entities: str, delete: bool = True) -> tuple[EventSpec, ...]:
    """ADD/UPDATE(/DELETE) events for the given CRM entities (``LEAD``, ``DEAL``, ...)."""
    ops = ("ADD", "UPDATE", "DELETE") if delete else ("ADD", "UPDATE")
    return tuple(EventSpec(f"ONCRM{e}{op}") for e in entities for op in ops)


def t(ru: str, en: str) -> Text:
    return Text(ru, en)
