"""eshop §5 rule 9: refusal reasons counted per period and per manager.

An order counts in the period when it entered «Отменён» (the eshop pipeline's failure
stage) in [since, until) — its latest stay there, from the mirror's stage history; orders
cancelled before the app saw them have no such stay and are left out (the note says how
many). The reason is the order's «Причина отказа» list value; an order cancelled without
one is counted as «Не указана», so the table shows how often managers skip it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC

from sqlalchemy import select

from app.reports.labels import Labels
from app.store import mirror
from app.store.mirror import StageStay

CANCELLED = "eshop.order.cancelled"
REASON = "UF_CRM_ES_REFUSAL"
UNSET = "Не указана"


def _in(at, since, until) -> bool:
    return at is not None and (since is None or at >= since) and (until is None or at < until)


def _amount(value) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def _cancelled_in(session, member_id, stage_id, deals, since, until) -> tuple[list[int], int]:
    """Ids of ``deals`` whose latest entry into ``stage_id`` is in the period, and how many
    have no recorded entry at all."""
    q = select(StageStay.record_id, StageStay.entered_at).where(
        StageStay.member_id == member_id,
        StageStay.entity == "deal",
        StageStay.stage == stage_id,
        StageStay.record_id.in_(list(deals) or [-1]),
    )
    latest = {}
    for rid, at in session.execute(q):
        at = at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite hands back naive UTC
        latest[rid] = max(at, latest.get(rid, at))
    inside = sorted(rid for rid, at in latest.items() if _in(at, since, until))
    return inside, len(set(deals) - set(latest))


def run(session, member_id, record_id, since, until, settings):
    from app.reports import Table

    labels = Labels(session, member_id)
    try:
        stage_id = labels.naming.stage(CANCELLED)
    except KeyError:
        note = "The eshop playbook is not installed on this portal: no «Отменён» stage."
        return [Table("Refusal reasons", ("reason", "orders", "%", "sum"), (), note)]
    deals = {
        r.record_id: r.data
        for r in mirror.records(session, member_id, "deal")
        if r.stage == stage_id
    }
    counted, unseen = _cancelled_in(session, member_id, stage_id, deals, since, until)
    reasons: Counter[str] = Counter()
    sums: defaultdict[str, float] = defaultdict(float)
    per_manager: Counter[tuple[str, str]] = Counter()
    for rid in counted:
        data = deals[rid]
        reason = labels.option("deal", REASON, labels.field_value("deal", data, REASON)) or UNSET
        reasons[reason] += 1
        sums[reason] += _amount(data.get("opportunity"))
        per_manager[(labels.person(data.get("assignedById")), reason)] += 1
    total = sum(reasons.values())
    by_reason = tuple(
        (reason, n, round(100 * n / total, 1), round(sums[reason], 2))
        for reason, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    by_manager = tuple(
        (manager, reason, n)
        for (manager, reason), n in sorted(
            per_manager.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])
        )
    )
    note = f"Orders counted when they entered «Отменён» in the period: {total}."
    if unseen:
        note += f" {unseen} cancelled order(s) have no recorded cancellation date and are left out."
    return [
        Table("Refusal reasons", ("reason", "orders", "%", "sum"), by_reason, note),
        Table("Refusals per manager", ("manager", "reason", "orders"), by_manager),
    ]


def _spec():
    from app.reports import ReportSpec

    return ReportSpec(
        "eshop_refusals", "Аналитика отказов", "Refusal analytics", "eshop", "portal", run
    )


SPEC = _spec()
