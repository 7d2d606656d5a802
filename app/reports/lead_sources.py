"""metal: lead-source analytics — which sources and campaigns bring leads and converted deals.

Reads mirrored leads (``sourceId``, ``utmCampaign``, ``createdTime``, stage) and deals
(``leadId``, stage). A lead counts in the period by its ``createdTime`` in [since, until);
converted = lead stage ``CONVERTED``; won = a mirrored deal with that ``leadId`` in a stage
ending in ``WON``. ``deals_sum`` is the sum (``opportunity``) of every mirrored deal made
from the period's leads, ``won_revenue`` that of the won ones (seed 001: end-to-end
analytics — what each source and campaign brings in money, not only in leads). With
``category`` only that pipeline's deals count (won, sums); leads are counted whole.
"""

from __future__ import annotations

from collections import defaultdict

from app.domain.reports import FunnelRow, funnel
from app.reports.pipelines import keeps
from app.store import mirror


def _in(at, since, until) -> bool:
    return at is not None and (since is None or at >= since) and (until is None or at < until)


def _amount(value) -> float:
    try:
        return float(str(value).split("|")[0] or 0)
    except (TypeError, ValueError):
        return 0.0


def run(session, member_id, record_id, since, until, settings, category=None):
    from app.reports import Table

    won_leads: set[int] = set()
    deal_sum: defaultdict[int, float] = defaultdict(float)
    won_sum: defaultdict[int, float] = defaultdict(float)
    for r in mirror.records(session, member_id, "deal"):
        if not r.data.get("leadId") or not keeps(r.data, category):
            continue
        lead_id = int(r.data["leadId"])
        amount = _amount(r.data.get("opportunity"))
        deal_sum[lead_id] += amount
        if (r.stage or "").endswith("WON"):
            won_leads.add(lead_id)
            won_sum[lead_id] += amount
    rows, sums = [], defaultdict(lambda: [0.0, 0.0])
    for r in mirror.records(session, member_id, "lead"):
        if not _in(mirror.parse_time(r.data.get("createdTime")), since, until):
            continue
        key = (r.data.get("sourceId") or "—", r.data.get("utmCampaign") or "—")
        rows.append(FunnelRow(key, converted=r.stage == "CONVERTED", won=r.record_id in won_leads))
        sums[key][0] += deal_sum.get(r.record_id, 0.0)
        sums[key][1] += won_sum.get(r.record_id, 0.0)
    out = tuple(
        (s.key[0], s.key[1], s.leads, s.converted, s.conversion_percent, s.won)
        + (round(sums[s.key][0], 2), round(sums[s.key][1], 2))
        for s in funnel(rows)
    )
    return [
        Table(
            "Leads by source and campaign",
            (
                "source",
                "campaign",
                "leads",
                "converted",
                "conversion_%",
                "won_deals",
                "deals_sum",
                "won_revenue",
            ),
            out,
            "Source codes as stored (sourceId); campaign from utmCampaign; sums from the "
            "deals made from the leads (opportunity).",
        )
    ]


def _spec():
    from app.reports import ReportSpec

    return ReportSpec(
        "lead_sources",
        "Аналитика источников лидов",
        "Lead-source analytics",
        "metal",
        "portal",
        run,
        by_pipeline=True,
    )


SPEC = _spec()
