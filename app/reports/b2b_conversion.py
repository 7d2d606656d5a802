"""b2b §4 rule 9: lead → deal conversion per manager and the stage where each loses most.

Leads count in the period by ``createdTime``; manager = ``assignedById``; converted = lead
stage ``CONVERTED``. Lost deals: mirrored deals now in a stage ending in ``LOSE`` whose loss
stay was entered in [since, until); the stage lost at is the stay just before the loss in
the mirror's stage history (a deal with no earlier stay is left out of the loss table).
With ``category`` the loss table keeps that pipeline's deals only.
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import select

from app.domain.reports import FunnelRow, funnel, loss_stages
from app.reports.labels import Labels
from app.reports.pipelines import keeps
from app.store import mirror
from app.store.mirror import StageStay


def _in(at, since, until) -> bool:
    return at is not None and (since is None or at >= since) and (until is None or at < until)


def _lost(session, member_id, since, until, category=None):
    """(manager, stage before the loss) for deals lost in the period."""
    owners = {
        r.record_id: r.data.get("assignedById")
        for r in mirror.records(session, member_id, "deal")
        if (r.stage or "").endswith("LOSE") and keeps(r.data, category)
    }
    q = select(StageStay).where(
        StageStay.member_id == member_id,
        StageStay.entity == "deal",
        StageStay.record_id.in_(list(owners) or [-1]),
    )
    history: dict[int, list[StageStay]] = {}
    for s in session.scalars(q.order_by(StageStay.record_id, StageStay.entered_at, StageStay.id)):
        history.setdefault(s.record_id, []).append(s)
    for rid, stays in history.items():
        last = stays[-1]
        if len(stays) < 2 or not last.stage.endswith("LOSE"):
            continue
        entered = last.entered_at
        if entered.tzinfo is None:  # SQLite hands back naive UTC
            entered = entered.replace(tzinfo=UTC)
        if _in(entered, since, until):
            yield owners[rid], stays[-2].stage


def run(session, member_id, record_id, since, until, settings, category=None):
    from app.reports import Table

    labels = Labels(session, member_id)
    rows = [
        FunnelRow(r.data.get("assignedById"), converted=r.stage == "CONVERTED")
        for r in mirror.records(session, member_id, "lead")
        if _in(mirror.parse_time(r.data.get("createdTime")), since, until)
    ]
    conv = tuple(
        (labels.person(s.key), s.leads, s.converted, s.conversion_percent) for s in funnel(rows)
    )
    losses = loss_stages(_lost(session, member_id, since, until, category))
    loss = tuple(
        (labels.person(m), labels.stage("deal", stage), n, sum(c.values()))
        for m, (stage, n, c) in sorted(losses.items(), key=lambda kv: str(kv[0]))
    )
    return [
        Table("Lead → deal conversion per manager", ("manager", "leads", "converted", "%"), conv),
        Table(
            "Where each manager loses deals most",
            ("manager", "stage", "lost_there", "lost_total"),
            loss,
            "Managers the portal directory does not know yet are shown as #id.",
        ),
    ]


def _spec():
    from app.reports import ReportSpec

    return ReportSpec(
        "b2b_conversion",
        "Конверсия и потери по менеджерам",
        "Conversion and losses by manager",
        "b2b",
        "portal",
        run,
        by_pipeline=True,
    )


SPEC = _spec()
