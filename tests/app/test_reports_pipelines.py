"""The pipeline filter of the reports (app.reports.pipelines, filters.pipeline): a portal with
two deal pipelines — the default one (categoryId 0) and metal's «Металлоконструкции»
(categoryId 7, an installer record) — and deals in both. A report with ``by_pipeline`` counts
only the chosen pipeline's deals; leads belong to no pipeline and stay whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import app.reports as reports
from app.reports.filters import FilterError, pipeline
from app.reports.pipelines import Pipeline, deal_pipelines
from app.store import mirror, people, schema_objects
from app.store.base import Base
from app.store.schema_objects import Known

M = "member-pipelines"
NOV = datetime(2026, 11, 1, tzinfo=UTC)
DEC = datetime(2026, 12, 1, tzinfo=UTC)
METAL = 7


def _deal(s, rid, category, stage, *, lead=None, amount=0, who="1", at=NOV, moves=()):
    data = {
        "id": rid,
        "categoryId": category,
        "stageId": stage,
        "leadId": lead,
        "opportunity": amount,
        "assignedById": who,
    }
    for n, earlier in enumerate(moves):  # the stages it passed, an hour apart
        mirror.put(s, M, "deal", rid, {**data, "stageId": earlier}, at=at + timedelta(hours=n))
    mirror.put(s, M, "deal", rid, data, at=at + timedelta(hours=len(moves)))


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        people.put(s, M, {"1": {"name": "Анна Петрова"}}, "+00:00", NOV)
        schema_objects.record(
            s,
            M,
            [
                Known("category", "metal.deal", str(METAL), None, True, {"entityTypeId": 2}),
                # a smart process's own pipeline: no deals there, never a choice
                Known(
                    "category", "metal.object.default", "31", None, False, {"entityTypeId": 1030}
                ),
            ],
        )
        for rid, created in ((1, "2026-11-03T10:00:00+00:00"), (2, "2026-11-04T10:00:00+00:00")):
            lead = {
                "id": rid,
                "sourceId": "WEB",
                "utmCampaign": "autumn",
                "stageId": "CONVERTED",
                "assignedById": "1",
                "createdTime": created,
            }
            mirror.put(s, M, "lead", rid, lead, at=NOV)
        # lead 1 became a won deal in the default pipeline, lead 2 one in metal's
        _deal(s, 10, 0, "WON", lead=1, amount=1000, at=NOV + timedelta(days=2))
        _deal(s, 20, METAL, "C7:WON", lead=2, amount=5000, at=NOV + timedelta(days=3))
        # lost deals: the default one at NEW, metal's at its proposal stage
        _deal(s, 11, 0, "LOSE", amount=10, at=NOV + timedelta(days=4), moves=["NEW"])
        _deal(s, 21, METAL, "C7:LOSE", at=NOV + timedelta(days=5), moves=["C7:PROPOSAL"])
        s.commit()
        yield s


def test_the_choices_are_the_portals_deal_pipelines_by_name(session):
    assert deal_pipelines(session, M) == [
        Pipeline(0, "Основная воронка"),
        Pipeline(METAL, "Металлоконструкции"),
    ]
    # a pipeline the installer does not know, seen on a mirrored deal, is named by its id
    _deal(session, 30, 9, "C9:NEW")
    assert deal_pipelines(session, M, "en") == [
        Pipeline(0, "Default pipeline"),
        Pipeline(METAL, "Metal structures"),
        Pipeline(9, "Pipeline #9"),
    ]


def test_a_chosen_id_must_be_one_of_the_portals_pipelines(session):
    choices = deal_pipelines(session, M)
    assert pipeline("", choices) is None
    assert pipeline(" 7 ", choices) == METAL
    assert pipeline("0", choices) == 0
    with pytest.raises(FilterError, match="на портале нет воронки сделок '31'"):
        pipeline("31", choices)  # the smart process's pipeline
    with pytest.raises(FilterError, match="the portal has no deal pipeline 'x'"):
        pipeline("x", choices, "en")


def test_lead_sources_sums_only_the_chosen_pipelines_deals(session):
    def row(category):
        (table,) = reports.build(
            "lead_sources", session, M, since=NOV, until=DEC, category=category
        )
        (only,) = table.rows
        return only[2:4], only[5:]  # (leads, converted), (won, deals_sum, won_revenue)

    assert row(None) == ((2, 2), (2, 6000.0, 6000.0))
    assert row(METAL) == ((2, 2), (1, 5000.0, 5000.0))  # leads stay whole
    assert row(0) == ((2, 2), (1, 1000.0, 1000.0))


def test_metal_managers_counts_won_deals_of_the_chosen_pipeline(session):
    def won(category):
        (table,) = reports.build(
            "metal_managers", session, M, since=NOV, until=DEC, category=category
        )
        (only,) = table.rows
        return only[table.columns.index("leads")], only[table.columns.index("won")]

    assert won(None) == (2, 2)
    assert won(METAL) == (2, 1)
    assert won(5) == (2, 0)


def test_b2b_conversion_losses_of_the_chosen_pipeline(session):
    def losses(category):
        _conv, loss = reports.build(
            "b2b_conversion", session, M, since=NOV, until=DEC, category=category
        )
        (row,) = loss.rows  # one manager: the stage they lose most at, and their total
        return row[1:]

    assert losses(None)[1:] == (1, 2)
    assert losses(0) == ("NEW", 1, 1)
    assert losses(METAL) == ("C7:PROPOSAL", 1, 1)


def test_order_timing_reads_the_stays_of_the_chosen_pipelines_deals(session):
    def orders(category):
        _stages, per_order = reports.build(
            "order_timing", session, M, since=NOV, until=DEC, category=category
        )
        return sorted(row[0] for row in per_order.rows)

    assert orders(None) == [10, 11, 20, 21]
    assert orders(0) == [10, 11]
    assert orders(METAL) == [20, 21]


def test_a_report_without_deals_of_several_pipelines_refuses_one(session):
    with pytest.raises(reports.ReportError, match="does not take a pipeline"):
        reports.build("eshop_clients", session, M, category=METAL)
    assert {name for name, spec in reports.REPORTS.items() if spec.by_pipeline} == {
        "lead_sources",
        "metal_managers",
        "b2b_conversion",
        "order_timing",
    }
