"""b2b §4 rule 9 (seed 003 §4.2): the field reps' reports.

* ``b2b_cold_reps`` — per employee in the period: companies, contacts and cold-sales deals
  they created (``createdBy``, ``createdTime``), and how completely those deals are filled
  (the average share of :data:`DEAL_FIELDS` holding a value);
* ``b2b_samples`` — samples handed over per rep: cold-sales deals that entered «Образец
  передан» in the period (stage history) with the sample's photo attached.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from app.domain.reports import fill_share
from app.reports.labels import Labels
from app.store import mirror
from app.store.mirror import StageStay

PHOTO = "UF_CRM_B2B_SAMPLE_PHOTO"
DEAL_FIELDS = ("title", "companyId", "contactId", "opportunity", PHOTO,
               "UF_CRM_B2B_DEFERRAL_DAYS", "comments")  # fmt: skip
SAMPLE = "b2b.cold.sample"


def _aware(at):
    return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)  # SQLite: naive UTC


def _in(at, since, until) -> bool:
    return at is not None and (since is None or at >= since) and (until is None or at < until)


def _cold(labels: Labels) -> str | None:
    try:
        return str(labels.naming.category("b2b.cold"))
    except KeyError:
        return None


def _values(labels: Labels, data: dict) -> dict:
    out = {f: labels.field_value("deal", data, f) for f in DEAL_FIELDS}
    return {k: None if v in (0, "0", 0.0) else v for k, v in out.items()}  # 0 = not set


def _photo(value) -> bool:
    if isinstance(value, dict):
        return any(value.values())
    return value not in (None, "", [], 0, "0", False)


def cold_reps(session, member_id, record_id, since, until, settings):
    from app.reports import Table

    labels = Labels(session, member_id)
    cold = _cold(labels)
    counts: dict[str, list] = defaultdict(lambda: [0, 0, 0, []])
    for slot, entity in ((0, "company"), (1, "contact"), (2, "deal")):
        for r in mirror.records(session, member_id, entity):
            data = r.data or {}
            who = str(data.get("createdBy") or "")
            if not who or not _in(mirror.parse_time(data.get("createdTime")), since, until):
                continue
            if entity == "deal":
                if str(data.get("categoryId")) != cold:
                    continue
                counts[who][3].append(fill_share(_values(labels, data), DEAL_FIELDS))
            counts[who][slot] += 1
    rows = []
    for who, (companies, contacts, deals, shares) in sorted(counts.items(), key=lambda kv: kv[0]):
        known = [s for s in shares if s is not None]
        mean = (sum(known) / len(known)).quantize(Decimal("0.1"), ROUND_HALF_UP) if known else None
        rows.append((labels.person(who), companies, contacts, deals, mean))
    return [
        Table(
            "Cold-sales rep activity",
            ("employee", "companies", "contacts", "cold_deals", "deal_fill_%"),
            tuple(rows),
            f"Deal completeness counts: {', '.join(DEAL_FIELDS)}.",
        )
    ]


def samples(session, member_id, record_id, since, until, settings):
    from app.reports import Table

    labels = Labels(session, member_id)
    try:
        stage_id = labels.naming.stage(SAMPLE)
    except KeyError:
        return [Table("Samples handed over", ("rep", "samples"), (), "b2b is not installed")]
    q = select(StageStay.record_id, StageStay.entered_at).where(
        StageStay.member_id == member_id, StageStay.entity == "deal", StageStay.stage == stage_id
    )
    entered = {rid for rid, at in session.execute(q) if _in(_aware(at), since, until)}
    per: dict[str, int] = defaultdict(int)
    for rid in sorted(entered):
        data = mirror.get(session, member_id, "deal", rid) or {}
        if _photo(labels.field_value("deal", data, PHOTO)):
            per[str(data.get("assignedById") or "")] += 1
    rows = tuple((labels.person(who), n) for who, n in sorted(per.items(), key=lambda kv: -kv[1]))
    return [
        Table(
            "Samples handed over",
            ("rep", "samples"),
            rows,
            "A sample counts when its deal entered «Образец передан» with the photo attached.",
        )
    ]


def _specs():
    from app.reports import ReportSpec

    return (
        ReportSpec("b2b_cold_reps", "Активность торговых представителей",
                   "Cold-sales rep activity", "b2b", "portal", cold_reps),
        ReportSpec("b2b_samples", "Переданные образцы", "Samples handed over", "b2b", "portal",
                   samples),
    )  # fmt: skip


SPECS = _specs()
