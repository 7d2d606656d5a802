"""metal: lead-source analytics — which sources and campaigns bring leads and converted deals.

Reads mirrored leads (``sourceId``, ``utmCampaign``, ``createdTime``, stage) and deals
(``leadId``, stage). A lead counts in the period by its ``createdTime`` in [since, until);
converted = lead stage ``CONVERTED``; won = a mirrored deal with that ``leadId`` in a stage
ending in ``WON``.
"""

from __future__ import annotations

from app.domain.reports import FunnelRow, funnel
from app.store import mirror


def _in(at, since, until) -> bool:
    return at is not None and (since is None or at >= since) and (until is None or at < until)


def run(session, member_id, record_id, since, until, settings):
    from app.reports import Table

    won_leads = {
        int(r.data.get("leadId"))
        for r in mirror.records(session, member_id, "deal")
        if r.data.get("leadId") and (r.stage or "").endswith("WON")
    }
    rows = [
        FunnelRow(
            (r.data.get("sourceId") or "—", r.data.get("utmCampaign") or "—"),
            converted=r.stage == "CONVERTED",
            won=r.record_id in won_leads,
        )
        for r in mirror.records(session, member_id, "lead")
        if _in(mirror.parse_time(r.data.get("createdTime")), since, until)
    ]
    out = tuple(
        (s.key[0], s.key[1], s.leads, s.converted, s.conversion_percent, s.won)
        for s in funnel(rows)
    )
    return [
        Table(
            "Leads by source and campaign",
            ("source", "campaign", "leads", "converted", "conversion_%", "won_deals"),
            out,
            "Source codes as stored (sourceId); campaign from utmCampaign.",
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
    )


SPEC = _spec()
