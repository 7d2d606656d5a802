"""b2b §4 rule 9 (seed 003): NPS per employee and per period, from the survey answers kept in
the store (``app.store.nps``; the manager is the deal's responsible when the answer was
written). An answer's score is the rounded mean of its three 0–10 marks; NPS = % of
promoters (9–10) − % of detractors (0–6). Months are UTC calendar months.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from app.domain.b2b import nps_score
from app.domain.reports import nps_by
from app.reports.labels import Labels
from app.store import nps

FAR_PAST, FAR_FUTURE = datetime(2000, 1, 1, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC)


def score(answer) -> int:
    mean = Decimal(answer.delivery + answer.packaging + answer.shelf) / 3
    return int(mean.quantize(Decimal(1), ROUND_HALF_UP))


def _avg(values) -> Decimal | None:
    values = list(values)
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def run(session, member_id, record_id, since, until, settings):
    from app.reports import Table

    labels = Labels(session, member_id)
    answers = nps.between(session, member_id, since or FAR_PAST, until or FAR_FUTURE)
    per = nps_by((a.manager_id or 0, score(a)) for a in answers)
    marks: dict[int, list] = defaultdict(list)
    for a in answers:
        marks[a.manager_id or 0].append(a)
    employees = tuple(
        (labels.person(who), n, value, _avg(a.delivery for a in marks[who]),
         _avg(a.packaging for a in marks[who]), _avg(a.shelf for a in marks[who]))
        for who, (n, value) in sorted(per.items(), key=lambda kv: kv[0])
    )  # fmt: skip
    months: dict[str, list[int]] = defaultdict(list)
    for a in answers:
        at = a.answered_at if a.answered_at.tzinfo else a.answered_at.replace(tzinfo=UTC)
        months[f"{at:%Y-%m}"].append(score(a))
    periods = tuple((m, len(s), nps_score(s)) for m, s in sorted(months.items()))
    return [
        Table(
            "NPS per employee",
            ("employee", "answers", "nps", "delivery", "packaging", "shelf_life"),
            employees,
        ),
        Table("NPS per month", ("month", "answers", "nps"), periods),
    ]


def _spec():
    from app.reports import ReportSpec

    return ReportSpec("b2b_nps", "NPS по сотрудникам", "NPS per employee", "b2b", "portal", run)


SPEC = _spec()
