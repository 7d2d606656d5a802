"""metal (seed 001: «руководство … возможность контролировать работу сотрудников»): how each
manager works their leads.

Per responsible, over the leads created (``createdTime``) in [since, until): leads taken,
the median hours from the lead's creation to its first activity (a call, e-mail, to-do —
activities the app mirrored), leads converted (stage ``CONVERTED``), deals won from them, to-dos
overdue now (open activities past their deadline, whatever the period) and leads sitting
in «Зависшие лиды». A lead without any mirrored activity is left out of the median and
counted in ``no_contact``. With ``category`` only that pipeline's deals count as won.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from statistics import median

from app.reports.labels import Labels
from app.reports.pipelines import keeps
from app.store import mirror

LEAD_TYPE = "1"


def _in(at, since, until) -> bool:
    return at is not None and (since is None or at >= since) and (until is None or at < until)


def _when(value):
    at = mirror.parse_time(value)
    return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)


def run(session, member_id, record_id, since, until, settings, category=None):
    from app.reports import Table

    labels = Labels(session, member_id)
    try:
        stalled = labels.naming.stage("metal.lead.stalled")
    except KeyError:
        stalled = None
    now = datetime.now(UTC)
    first_touch: dict[int, datetime] = {}
    overdue: defaultdict[str, int] = defaultdict(int)
    for a in mirror.records(session, member_id, "activity"):
        data = a.data
        if str(data.get("OWNER_TYPE_ID")) == LEAD_TYPE and data.get("OWNER_ID"):
            at = _when(data.get("CREATED"))
            lead = int(data["OWNER_ID"])
            if at is not None and (lead not in first_touch or at < first_touch[lead]):
                first_touch[lead] = at
        deadline = _when(data.get("DEADLINE"))
        if str(data.get("COMPLETED")) != "Y" and deadline is not None and deadline < now:
            overdue[labels.person(data.get("RESPONSIBLE_ID"))] += 1
    won_leads = {
        int(r.data["leadId"])
        for r in mirror.records(session, member_id, "deal")
        if r.data.get("leadId") and (r.stage or "").endswith("WON") and keeps(r.data, category)
    }
    rows: dict[str, dict] = defaultdict(
        lambda: {"leads": 0, "hours": [], "silent": 0, "converted": 0, "won": 0, "stalled": 0}
    )
    for r in mirror.records(session, member_id, "lead"):
        who = labels.person(r.data.get("assignedById"))
        if stalled and r.stage == stalled:
            rows[who]["stalled"] += 1
        created = _when(r.data.get("createdTime"))
        if not _in(created, since, until):
            continue
        row = rows[who]
        row["leads"] += 1
        touched = first_touch.get(r.record_id)
        if touched is not None and touched >= created:
            row["hours"].append((touched - created).total_seconds() / 3600)
        else:
            row["silent"] += 1
        row["converted"] += r.stage == "CONVERTED"
        row["won"] += r.record_id in won_leads
    for who in overdue:
        rows[who]  # a manager with overdue to-dos only is listed too
    out = tuple(
        (
            who,
            v["leads"],
            round(median(v["hours"]), 1) if v["hours"] else None,
            v["silent"],
            v["converted"],
            v["won"],
            overdue.get(who, 0),
            v["stalled"],
        )
        for who, v in sorted(rows.items())
    )
    return [
        Table(
            "Managers' work on leads",
            (
                "manager",
                "leads",
                "median_h_to_first_contact",
                "no_contact",
                "converted",
                "won",
                "overdue_todos_now",
                "stalled_now",
            ),
            out,
            "Leads counted by creation in the period; overdue to-dos and stalled leads as of now.",
        )
    ]


def _spec():
    from app.reports import ReportSpec

    return ReportSpec(
        "metal_managers",
        "Работа менеджеров",
        "Managers' work",
        "metal",
        "portal",
        run,
        by_pipeline=True,
    )


SPEC = _spec()
