"""Reports read from the local mirror store (playbooks: b2b §4.9, eshop §5.5/§5.9, metal).

Each report module exposes ``SPEC`` (a :class:`ReportSpec`) and ``run(session, member_id,
record_id, since, until, settings) -> list[Table]``. Data comes only from the store; where
the mirror lacks something a report needs, the Table's ``note`` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["Table", "ReportSpec", "ReportError", "REPORTS", "build"]


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title_ru: str
    title_en: str
    playbook: str
    scope: str  # "portal" | "record"
    run: Callable[..., list[Table]]
    # rows from deals of any pipeline: ``run`` takes ``category=`` (app.reports.pipelines)
    by_pipeline: bool = False


class ReportError(ValueError):
    """Unknown report or a call that does not fit the report's scope."""


def _registry() -> dict[str, ReportSpec]:
    from app.reports import (
        b2b_conversion,
        b2b_debts,
        b2b_nps,
        b2b_reps,
        b2b_tasks,
        eshop_clients,
        eshop_funnel,
        eshop_refusals,
        lead_sources,
        metal_managers,
        order_timing,
    )

    specs = (
        order_timing.SPEC,
        lead_sources.SPEC,
        b2b_conversion.SPEC,
        eshop_refusals.SPEC,
        eshop_clients.SPEC,
        eshop_funnel.SPEC,
        metal_managers.SPEC,
        b2b_tasks.SPEC,
        b2b_debts.SPEC,
        *b2b_reps.SPECS,
        b2b_nps.SPEC,
    )
    return {spec.name: spec for spec in specs}


REPORTS: dict[str, ReportSpec] = _registry()


def build(
    name: str,
    session,
    member_id: str,
    *,
    record_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    settings: Mapping[str, Any] | None = None,
    category: int | None = None,
) -> list[Table]:
    """Run report ``name`` for one portal over the half-open period [since, until), on the
    deals of pipeline ``category`` only when given (reports with ``by_pipeline``)."""
    spec = REPORTS.get(name)
    if spec is None:
        raise ReportError(f"unknown report {name!r}; known: {', '.join(sorted(REPORTS))}")
    if spec.scope == "record" and record_id is None:
        raise ReportError(f"report {name!r} needs a record id")
    if category is None:
        return spec.run(session, member_id, record_id, since, until, settings or {})
    if not spec.by_pipeline:
        raise ReportError(f"report {name!r} does not take a pipeline")
    return spec.run(session, member_id, record_id, since, until, settings or {}, category=category)
