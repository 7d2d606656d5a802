"""Pure-rule contexts for the kitchens playbook: a schema map with real-looking enum ids."""

from __future__ import annotations

from datetime import UTC, datetime

from app.playbooks.kitchens import FIELDS
from app.playbooks.settings import defaults
from app.rules.model import STAGE_ENTERED, Change, RuleContext

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 12:00 Moscow
MANAGER, MEASURER = 5, 9


class Schema:
    """Enum ids like a portal's: lead and deal options differ; CONVERTED is shared."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str, str], int] = {}
        n = 100
        for spec in FIELDS:
            for option in spec.options:
                n += 1
                self.ids[(spec.entity, spec.code, option.code)] = n

    def enum_id(self, field: str, value: str, entity: str | None = None) -> int:
        return self.ids[(entity or "lead", field, value)]

    def stage_id(self, entity: str, code: str) -> str:
        return {"metal.lead.converted": "CONVERTED", "kitchens.lead.agreed": "CONVERTED"}.get(
            code, code
        )

    def stage_codes(self, entity: str, raw: str) -> list[str]:
        if raw == "CONVERTED":
            return ["metal.lead.converted", "kitchens.lead.agreed"]
        return [raw]

    def field_name(self, entity: str, code: str) -> str:
        return code


SCHEMA = Schema()


def opt(field: str, code: str, entity: str = "lead") -> int:
    return SCHEMA.enum_id(field, code, entity)


def ctx(record, *, kind=STAGE_ENTERED, stage_from=None, stage_to=None, settings=None, **change):
    ch = Change(
        "m",
        "lead",
        7,
        kind,
        "c",
        stage_from=stage_from,
        stage_to=stage_to,
        after=record,
        before={} if stage_from else None,
        **change,
    )
    merged = {**defaults("kitchens"), **(settings or {})}
    return RuleContext(ch, record, {}, merged, SCHEMA, NOW)


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]
