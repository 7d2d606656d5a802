"""B2B, pure: the survey after the first delivery (``nps_delay_days``). Stage tasks with
checklists are tested in ``test_b2b_stage_discipline.py``."""

from __future__ import annotations

from datetime import UTC, datetime

from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import STAGE_ENTERED, TIMER_FIRED, Change, RuleContext

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # Friday 18:00 Moscow: the day is over
REP = 4


def ctx(record, settings=None, kind=STAGE_ENTERED, **change):
    ch = Change("m", "deal", 7, kind, "c", after=record, **change)
    return RuleContext(ch, record, {}, {**defaults("b2b"), **(settings or {})}, None, NOW)


def test_a_deal_moved_forward_without_a_planned_step_goes_back():
    """Seed 003: «нельзя выйти из экрана сделки, пока не будет поставлена следующая задача»."""
    from app.playbooks.b2b import rules_next_step_deal as N
    from app.sync.fetch import DEAL_OPEN_ACTIVITIES
    from app.sync.tasks import OPEN_TASKS

    # «Образец передан» gives no stage task of its own (rules_stage_tasks.STAGE_STEPS)
    deal = {"stageId": "b2b.cold.sample", "assignedById": REP, "title": "ООО Вектор"}
    ch = Change("m", "deal", 7, STAGE_ENTERED, "c", stage_from="b2b.cold.meeting",
                stage_to="b2b.cold.sample", after=deal)  # fmt: skip
    bare = RuleContext(ch, deal, {DEAL_OPEN_ACTIVITIES: []}, defaults("b2b"), None, NOW)
    back, note, told = N.moved_without_step(bare)
    assert back.stage == "b2b.cold.meeting" and "«ООО Вектор»" in note.text
    assert told.user_ids == (REP,)
    planned = RuleContext(ch, deal, {DEAL_OPEN_ACTIVITIES: [{"ID": 3}]}, defaults("b2b"), None, NOW)
    assert N.moved_without_step(planned) == []
    tasked = RuleContext(ch, deal, {OPEN_TASKS: [{"id": 5}]}, defaults("b2b"), None, NOW)
    assert N.moved_without_step(tasked) == []  # an open task on the deal is a next step too
    # a stage whose own stage task the same change plans has its next step
    offer = {**deal, "stageId": "b2b.sales.offer"}
    ch_offer = Change("m", "deal", 7, STAGE_ENTERED, "c", stage_from="b2b.sales.needs",
                      stage_to="b2b.sales.offer", after=offer)  # fmt: skip
    assert N.moved_without_step(RuleContext(ch_offer, offer, {}, defaults("b2b"), None, NOW)) == []
    # back along the pipeline, or to a closing stage: allowed
    ch_back = Change("m", "deal", 7, STAGE_ENTERED, "c", stage_from="b2b.sales.invoice",
                     stage_to="b2b.sales.offer", after=deal)  # fmt: skip
    assert N.moved_without_step(RuleContext(ch_back, deal, {}, defaults("b2b"), None, NOW)) == []
    won = {**deal, "stageId": "b2b.sales.won"}
    ch_won = Change("m", "deal", 7, STAGE_ENTERED, "c", stage_from="b2b.sales.shipment",
                    stage_to="b2b.sales.won", after=won)  # fmt: skip
    assert N.moved_without_step(RuleContext(ch_won, won, {}, defaults("b2b"), None, NOW)) == []


def test_a_new_deal_that_never_gets_a_step_is_caught_a_day_later():
    from app.playbooks.b2b import rules_next_step_deal as N
    from app.rules.model import CREATED
    from app.sync.fetch import DEAL_OPEN_ACTIVITIES

    deal = {"stageId": "b2b.sales.new", "assignedById": REP, "title": "ООО Вектор"}
    (timer,) = N.plan_check(ctx(deal, kind=CREATED))
    assert timer.kind == N.KIND
    assert timer.due_at == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # Friday 18:00 + 24 h → Monday
    fired = Change("m", "deal", 7, TIMER_FIRED, "timer:1", detail={"name": N.KIND})
    out = N.check(RuleContext(fired, deal, {DEAL_OPEN_ACTIVITIES: []}, defaults("b2b"), None, NOW))
    assert [type(a) for a in out] == [A.Notify, A.CreateTodo]
    busy = {DEAL_OPEN_ACTIVITIES: [{"ID": 9}]}
    assert N.check(RuleContext(fired, deal, busy, defaults("b2b"), None, NOW)) == []
