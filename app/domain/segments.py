"""E-shop analytics over plain rows (spec §5): client segments, orders per client, new vs
returning buyers, time in stage, refusal counts. Everything is a pure function of rows and
``now``; thresholds are settings.

Order ``status``: "open", "won" (received) or "lost" (cancelled). Only won orders count as
purchases.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

__all__ = [
    "Order",
    "SegmentSettings",
    "ClientStats",
    "client_stats",
    "segment",
    "rank_clients",
    "is_returning_buyer",
    "StageEvent",
    "stage_durations",
    "StageSummary",
    "aggregate_stage_durations",
    "stage_overdue",
    "refusal_counts",
]


@dataclass(frozen=True)
class Order:
    id: int
    client_id: int
    created_at: datetime
    amount: Decimal = Decimal(0)
    status: str = "open"
    manager_id: int | None = None
    refusal_reason: str | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class SegmentSettings:
    lapsed_after: timedelta = timedelta(days=180)
    repeat_min_orders: int = 2


@dataclass(frozen=True)
class ClientStats:
    client_id: int
    orders: int  # won orders
    total: Decimal  # sum of won orders
    first_at: datetime | None
    last_at: datetime | None


def client_stats(client_id: int, orders: Iterable[Order]) -> ClientStats:
    """Won-order count, sum and first/last purchase dates of one client."""
    won = [o for o in orders if o.client_id == client_id and o.status == "won"]
    dates = [o.closed_at or o.created_at for o in won]
    return ClientStats(
        client_id,
        len(won),
        sum((o.amount for o in won), Decimal(0)),
        min(dates, default=None),
        max(dates, default=None),
    )


def segment(
    stats: ClientStats, now: datetime, settings: SegmentSettings = SegmentSettings()
) -> str:
    """ "new" (no purchase yet), "lapsed" (last purchase older than ``lapsed_after``),
    "repeat" (≥ ``repeat_min_orders`` purchases), else "active"."""
    if stats.orders == 0 or stats.last_at is None:
        return "new"
    if now - stats.last_at > settings.lapsed_after:
        return "lapsed"
    return "repeat" if stats.orders >= settings.repeat_min_orders else "active"


def rank_clients(orders: Iterable[Order]) -> list[ClientStats]:
    """Clients with purchases ranked by activity: order count, then sum (desc), then id."""
    orders = list(orders)
    ids = sorted({o.client_id for o in orders if o.status == "won"})
    stats = [client_stats(i, orders) for i in ids]
    return sorted(stats, key=lambda s: (-s.orders, -s.total, s.client_id))


def is_returning_buyer(order: Order, history: Iterable[Order]) -> bool:
    """True when the client had a won order created before this one (itself excluded)."""
    return any(
        o.client_id == order.client_id
        and o.id != order.id
        and o.status == "won"
        and o.created_at < order.created_at
        for o in history
    )


@dataclass(frozen=True)
class StageEvent:
    entity_id: int
    stage: str
    entered_at: datetime


def stage_durations(
    events: Sequence[StageEvent], now: datetime, final_stages: Iterable[str] = ()
) -> tuple[dict[str, timedelta], timedelta]:
    """Time per stage of one order (re-entries add up) and the total elapsed time.

    The last stage runs until ``now`` unless it is a final stage (won/lost), where the clock
    stops. Events are sorted by time; unsorted input is fine.
    """
    ordered = sorted(events, key=lambda e: e.entered_at)
    finals = set(final_stages)
    per: dict[str, timedelta] = defaultdict(timedelta)
    for cur, nxt in zip(ordered, ordered[1:], strict=False):
        per[cur.stage] += nxt.entered_at - cur.entered_at
    if not ordered:
        return {}, timedelta(0)
    last = ordered[-1]
    end = last.entered_at if last.stage in finals else max(now, last.entered_at)
    if last.stage not in finals:
        per[last.stage] += end - last.entered_at
    return dict(per), end - ordered[0].entered_at


@dataclass(frozen=True)
class StageSummary:
    stage: str
    orders: int
    mean: timedelta
    median: timedelta
    longest: timedelta


def aggregate_stage_durations(
    histories: Iterable[Sequence[StageEvent]], now: datetime, final_stages: Iterable[str] = ()
) -> list[StageSummary]:
    """Per stage across orders: how many passed through it, mean/median/max time spent;
    sorted by mean descending, so the stage where orders stall comes first."""
    finals = tuple(final_stages)
    samples: dict[str, list[timedelta]] = defaultdict(list)
    for events in histories:
        per, _ = stage_durations(events, now, finals)
        for stage, spent in per.items():
            samples[stage].append(spent)
    out = []
    for stage, spent in samples.items():
        secs = [s.total_seconds() for s in spent]
        out.append(
            StageSummary(
                stage,
                len(spent),
                timedelta(seconds=statistics.fmean(secs)),
                timedelta(seconds=statistics.median(secs)),
                max(spent),
            )
        )
    return sorted(out, key=lambda s: (-s.mean, s.stage))


def stage_overdue(entered_at: datetime, limit: timedelta, now: datetime) -> timedelta | None:
    """How far past the stage's time limit the order is, or None while within it."""
    over = now - entered_at - limit
    return over if over > timedelta(0) else None


def refusal_counts(
    orders: Iterable[Order], start: datetime, end: datetime, period: str = "month"
) -> Counter[tuple[str, int | None, str]]:
    """Lost orders closed in [start, end) counted by (period, manager, reason).

    ``period``: "month" ("2026-03"), "week" ("2026-W09"), "day" or "all". A missing reason
    counts as "не указана".
    """
    fmt = {"month": "%Y-%m", "week": "%G-W%V", "day": "%Y-%m-%d", "all": "all"}
    if period not in fmt:
        raise ValueError(f"period must be one of {sorted(fmt)}")
    counts: Counter[tuple[str, int | None, str]] = Counter()
    for o in orders:
        when = o.closed_at or o.created_at
        if o.status != "lost" or not start <= when < end:
            continue
        key = "all" if period == "all" else when.strftime(fmt[period])
        reason = (o.refusal_reason or "").strip() or "не указана"
        counts[(key, o.manager_id, reason)] += 1
    return counts
