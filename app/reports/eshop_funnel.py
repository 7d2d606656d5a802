"""eshop (seed 004: «на каком этапе чаще всего уходят клиенты и сколько заказов доходит до
клиента»; «Нет данных по конверсиям, сумме успешных заказов и их цикла»): the order funnel.

An order counts in the period when it first entered a stage of «Заказы интернет-магазина»
in [since, until) (the mirror's stage history; orders the app never saw move are left
out). Four tables:

* per stage — how many of the period's orders reached it, how many are there now, their sum;
* where orders are lost — for the period's cancelled orders, the stage they left for
  «Отменён», with its share;
* per manager — orders, received, conversion %, revenue of the received ones and their
  average cycle (first stage → «Получен») in days;
* stuck now — open orders longer in their stage than its ``stage_limits_hours`` limit,
  whatever the period.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime

from sqlalchemy import select

from app.reports.labels import Labels
from app.store import mirror
from app.store.mirror import StageStay

ENTITY = "deal"
RECEIVED, CANCELLED = "eshop.order.received", "eshop.order.cancelled"


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _amount(value) -> float:
    try:
        return float(str(value).split("|")[0] or 0)
    except (TypeError, ValueError):
        return 0.0


def _stage_ids(labels: Labels) -> list[tuple[str, str]]:
    """(code, the portal's stage id) of the orders pipeline, in its order."""
    from app.playbooks.eshop import ORDERS

    out = []
    for spec in ORDERS.stages:
        try:
            out.append((spec.code, labels.naming.stage(spec.code)))
        except KeyError:
            continue
    return out


def _stays(session, member_id, ids) -> dict[int, list[StageStay]]:
    q = select(StageStay).where(
        StageStay.member_id == member_id,
        StageStay.entity == ENTITY,
        StageStay.record_id.in_(list(ids) or [-1]),
    )
    out: dict[int, list[StageStay]] = defaultdict(list)
    for stay in session.scalars(q.order_by(StageStay.record_id, StageStay.entered_at)):
        out[stay.record_id].append(stay)
    return out


def run(session, member_id, record_id, since, until, settings):
    from app.reports import Table

    labels = Labels(session, member_id)
    stages = _stage_ids(labels)
    if not stages:
        note = "The eshop playbook is not installed on this portal: no orders pipeline."
        return [Table("Orders per stage", ("stage", "reached", "now", "sum_now"), (), note)]
    code_of = {sid: code for code, sid in stages}
    orders = {
        r.record_id: r.data
        for r in mirror.records(session, member_id, ENTITY)
        if r.stage in code_of
    }
    history = _stays(session, member_id, orders)
    now = datetime.now(UTC)
    end = until or now

    def in_period(rid: int) -> bool:
        stays = history.get(rid)
        if not stays:
            return False
        first = _aware(stays[0].entered_at)
        return (since is None or first >= since) and first < end

    counted = [rid for rid in orders if in_period(rid)]
    reached: Counter[str] = Counter()
    now_in: Counter[str] = Counter()
    sums: defaultdict[str, float] = defaultdict(float)
    lost_at: Counter[str] = Counter()
    per_manager: dict[str, list] = defaultdict(lambda: [0, 0, 0.0, []])
    for rid in counted:
        data, stays = orders[rid], history[rid]
        current = code_of.get(str(data.get("stageId") or ""), "")
        for code in {code_of.get(s.stage, "") for s in stays}:
            reached[code] += 1
        now_in[current] += 1
        sums[current] += _amount(data.get("opportunity"))
        if current == CANCELLED:
            before = [s for s in stays if code_of.get(s.stage) != CANCELLED]
            lost_at[code_of.get(before[-1].stage, "") if before else ""] += 1
        row = per_manager[labels.person(data.get("assignedById"))]
        row[0] += 1
        if current == RECEIVED:
            row[1] += 1
            row[2] += _amount(data.get("opportunity"))
            won = [s for s in stays if code_of.get(s.stage) == RECEIVED]
            cycle = _aware(won[-1].entered_at) - _aware(stays[0].entered_at)
            row[3].append(cycle.total_seconds() / 86400)
    name = lambda code: labels.stage(ENTITY, dict(stages).get(code, code))  # noqa: E731
    stage_rows = tuple(
        (name(code), reached[code], now_in[code], round(sums[code], 2)) for code, _ in stages
    )
    lost_total = sum(lost_at.values())
    order = {code: i for i, (code, _) in enumerate(stages)}  # pipeline order breaks ties
    lost_rows = tuple(
        (name(code) if code else "—", n, round(100 * n / lost_total, 1))
        for code, n in sorted(lost_at.items(), key=lambda kv: (-kv[1], order.get(kv[0], 99)))
    )
    manager_rows = tuple(
        (
            who,
            n,
            won,
            round(100 * won / n, 1) if n else 0.0,
            round(revenue, 2),
            round(sum(cycles) / len(cycles), 1) if cycles else None,
        )
        for who, (n, won, revenue, cycles) in sorted(per_manager.items())
    )
    return [
        Table(
            "Orders per stage",
            ("stage", "reached", "now", "sum_now"),
            stage_rows,
            f"Orders first seen in the period: {len(counted)}.",
        ),
        Table("Where orders are lost", ("stage_before_cancel", "orders", "%"), lost_rows),
        Table(
            "Per manager",
            ("manager", "orders", "received", "conversion_%", "revenue", "avg_cycle_days"),
            manager_rows,
        ),
        _stuck(labels, orders, history, code_of, name, settings, now),
    ]


def _stuck(labels, orders, history, code_of, name, settings, now):
    from app.playbooks.settings import defaults
    from app.reports import Table

    limits = (settings or {}).get("stage_limits_hours") or defaults("eshop")["stage_limits_hours"]
    rows = []
    for rid, data in sorted(orders.items()):
        stays = history.get(rid) or []
        if not stays or stays[-1].left_at is not None:
            continue
        code = code_of.get(stays[-1].stage, "")
        limit = limits.get(code) if isinstance(limits, dict) else None
        if not limit:
            continue
        hours = (now - _aware(stays[-1].entered_at)).total_seconds() / 3600
        if hours > float(limit):
            who = labels.person(data.get("assignedById"))
            rows.append((data.get("title") or f"#{rid}", name(code), round(hours, 1), limit, who))
    return Table(
        "Stuck now (over the stage limit)",
        ("order", "stage", "hours_in_stage", "limit_h", "manager"),
        tuple(rows),
    )


def _spec():
    from app.reports import ReportSpec

    return ReportSpec("eshop_funnel", "Воронка заказов", "Order funnel", "eshop", "portal", run)


SPEC = _spec()
