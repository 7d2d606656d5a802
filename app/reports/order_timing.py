"""eshop §5 rule 5: time an order spends in each stage, total fulfilment time, where it stalls.

Reads ``mirror_stage_history`` for entity ``deal``. A stay still open is measured up to
``until`` (or now). Stays are counted in the period when they were entered in [since, until).
Every deal pipeline's deals are read (furniture's sales and reclamations alike), so
``category`` keeps the stays of that pipeline's mirrored deals only.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.reports.labels import Labels
from app.reports.pipelines import keeps
from app.store import mirror
from app.store.mirror import StageStay

ENTITY = "deal"


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def _stays(session, member_id, record_id, since, until, category=None):
    q = select(StageStay).where(StageStay.member_id == member_id, StageStay.entity == ENTITY)
    if category is not None:
        ids = [
            r.record_id
            for r in mirror.records(session, member_id, ENTITY)
            if keeps(r.data or {}, category)
        ]
        q = q.where(StageStay.record_id.in_(ids or [-1]))
    if record_id is not None:
        q = q.where(StageStay.record_id == int(record_id))
    if since is not None:
        q = q.where(StageStay.entered_at >= since)
    if until is not None:
        q = q.where(StageStay.entered_at < until)
    return list(session.scalars(q.order_by(StageStay.record_id, StageStay.entered_at)))


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def run(session, member_id, record_id, since, until, settings, category=None):
    from app.reports import Table

    labels = Labels(session, member_id)
    end = until or datetime.now(UTC)
    per_stage: dict[str, list[timedelta]] = defaultdict(list)
    per_order: dict[int, timedelta] = defaultdict(timedelta)
    for s in _stays(session, member_id, record_id, since, until, category):
        left = _aware(s.left_at) if s.left_at else end
        spent = max(left - _aware(s.entered_at), timedelta(0))
        per_stage[s.stage].append(spent)
        per_order[s.record_id] += spent
    stage_rows = tuple(
        (labels.stage(ENTITY, stage), len(v), _hours(sum(v, timedelta()) / len(v)), _hours(max(v)))
        for stage, v in sorted(per_stage.items(), key=lambda kv: -sum(kv[1], timedelta()))
    )
    order_rows = tuple((rid, _hours(t)) for rid, t in sorted(per_order.items()))
    note = "Open stays counted up to the period end."
    return [
        Table(
            "Time per stage (hours), slowest first",
            ("stage", "stays", "avg_h", "max_h"),
            stage_rows,
            note,
        ),
        Table("Total time per order (hours)", ("order", "total_h"), order_rows),
    ]


def _spec():
    from app.reports import ReportSpec

    return ReportSpec(
        "order_timing", "Сроки заказов", "Order timing", "eshop", "portal", run, by_pipeline=True
    )


SPEC = _spec()
