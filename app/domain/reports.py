"""Report arithmetic over plain rows (b2b §4.9, metal lead-source analytics).

Periods are half-open [start, end). Shares are Decimal percentages with one decimal, None
when there is nothing to divide by.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from app.domain.b2b import nps_score

__all__ = [
    "percent",
    "TaskRow",
    "TaskStats",
    "task_report",
    "FunnelRow",
    "FunnelStats",
    "funnel",
    "loss_stages",
    "fill_share",
    "nps_by",
    "InvoiceRow",
    "debts",
]


def percent(part: int, whole: int) -> Decimal | None:
    """part / whole in %, one decimal half-up; None when whole is 0."""
    if not whole:
        return None
    return (Decimal(100 * part) / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class TaskRow:
    id: int
    responsible_id: int
    created_at: datetime
    deadline: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class TaskStats:
    responsible_id: int
    new: int  # created in the period
    done: int  # closed in the period
    open: int  # still open at the period's end
    due: int  # deadline in the period (up to now)
    overdue: int  # of those, not closed by the deadline

    @property
    def overdue_percent(self) -> Decimal | None:
        return percent(self.overdue, self.due)


def task_report(
    tasks: Iterable[TaskRow], start: datetime, end: datetime, now: datetime
) -> list[TaskStats]:
    """Per employee: new, done, open at period end, and overdue share of tasks due in the
    period (only deadlines already passed at ``now`` are judged). Sorted by employee id."""
    cut = min(end, now)
    acc: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for t in tasks:
        row = acc[t.responsible_id]
        row[0] += start <= t.created_at < end
        row[1] += t.closed_at is not None and start <= t.closed_at < end
        row[2] += t.created_at < end and (t.closed_at is None or t.closed_at >= end)
        if t.deadline is not None and start <= t.deadline < cut:
            row[3] += 1
            row[4] += t.closed_at is None or t.closed_at > t.deadline
    return [TaskStats(rid, *row) for rid, row in sorted(acc.items())]


@dataclass(frozen=True)
class FunnelRow:
    """One lead: grouping key (manager id, (source, campaign), …), converted to a deal, won."""

    key: Hashable
    converted: bool
    won: bool = False


@dataclass(frozen=True)
class FunnelStats:
    key: Hashable
    leads: int
    converted: int
    won: int

    @property
    def conversion_percent(self) -> Decimal | None:
        return percent(self.converted, self.leads)


def funnel(rows: Iterable[FunnelRow]) -> list[FunnelStats]:
    """Lead → deal → won counts per key (per manager for b2b conversion, per source and
    campaign for metal analytics), most leads first, then by key text."""
    acc: dict[Hashable, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        acc[r.key][0] += 1
        acc[r.key][1] += bool(r.converted)
        acc[r.key][2] += bool(r.won)
    stats = [FunnelStats(k, *v) for k, v in acc.items()]
    return sorted(stats, key=lambda s: (-s.leads, str(s.key)))


def loss_stages(
    lost: Iterable[tuple[Hashable, str]],
) -> dict[Hashable, tuple[str, int, Counter[str]]]:
    """From (manager, last active stage before the loss) rows: per manager the stage where
    they lose most (ties: alphabetical), its count, and all counts."""
    per: dict[Hashable, Counter[str]] = defaultdict(Counter)
    for manager, stage in lost:
        per[manager][stage] += 1
    out = {}
    for manager, counts in per.items():
        stage, n = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        out[manager] = (stage, n, counts)
    return out


def fill_share(values: Mapping[str, object], fields: Sequence[str]) -> Decimal | None:
    """% of ``fields`` that hold a non-empty value (cold-sales "deal completeness")."""

    def filled(v: object) -> bool:
        if v is None:
            return False
        if isinstance(v, str):
            return bool(v.strip())
        if isinstance(v, list | tuple | set | dict):
            return bool(v)
        return True

    return percent(sum(filled(values.get(f)) for f in fields), len(fields))


def nps_by(rows: Iterable[tuple[Hashable, int]]) -> dict[Hashable, tuple[int, Decimal | None]]:
    """(employee, 0–10 score) rows → employee: (answers, NPS)."""
    per: dict[Hashable, list[int]] = defaultdict(list)
    for who, score in rows:
        per[who].append(score)
    return {who: (len(s), nps_score(s)) for who, s in per.items()}


@dataclass(frozen=True)
class InvoiceRow:
    client_id: int
    amount: Decimal
    due: date
    paid: Decimal = Decimal(0)


def debts(invoices: Iterable[InvoiceRow], today: date) -> list[tuple[int, Decimal, Decimal, int]]:
    """Per client: (client, outstanding, overdue amount, days the oldest overdue invoice is
    late); clients with nothing outstanding are left out; largest overdue first."""
    acc: dict[int, list] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    for inv in invoices:
        left = inv.amount - inv.paid
        if left <= 0:
            continue
        row = acc[inv.client_id]
        row[0] += left
        if inv.due < today:
            row[1] += left
            row[2] = max(row[2], (today - inv.due).days)
    out = [(cid, total, late, days) for cid, (total, late, days) in acc.items()]
    return sorted(out, key=lambda r: (-r[2], -r[1], r[0]))
