"""B2B, pure: the survey after the first delivery (``nps_delay_days``). Stage tasks with
checklists are tested in ``test_b2b_stage_discipline.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.playbooks.b2b import rules_nps
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import STAGE_ENTERED, TIMER_FIRED, Change, RuleContext

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # Friday 18:00 Moscow: the day is over
REP = 4


def ctx(record, settings=None, kind=STAGE_ENTERED, **change):
    ch = Change("m", "deal", 7, kind, "c", after=record, **change)
    return RuleContext(ch, record, {}, {**defaults("b2b"), **(settings or {})}, None, NOW)


def test_the_survey_goes_out_days_after_the_first_delivery_unless_the_deal_moved():
    won = {"stageId": "b2b.sales.won", "assignedById": REP, "title": "ООО Вектор"}
    (timer,) = rules_nps.start_survey(ctx(won, {"nps_delay_days": 5}))
    assert timer.due_at == NOW + timedelta(days=5) and timer.cancel_on == "stage_left"
    detail = {"name": rules_nps.KIND, "payload": timer.payload}
    fired = Change("m", "deal", 7, TIMER_FIRED, "timer:1", detail=detail)
    out = rules_nps.survey(RuleContext(fired, won, {}, defaults("b2b"), None, NOW))
    msg, todo = out
    assert isinstance(msg, A.MessageClient) and "«ООО Вектор»" in msg.text
    assert "упаковку" in msg.text and "срок годности" in msg.text
    assert isinstance(todo, A.CreateTodo) and todo.responsible_id == REP and "NPS" in todo.title
    reopened = {**won, "stageId": "b2b.sales.shipment"}
    assert rules_nps.survey(RuleContext(fired, reopened, {}, defaults("b2b"), None, NOW)) == []


def test_a_deal_moved_forward_without_a_planned_step_goes_back():
    """Seed 003: «нельзя выйти из экрана сделки, пока не будет поставлена следующая задача»."""
    from app.playbooks.b2b import rules_next_step_deal as N
    from app.sync.fetch import DEAL_OPEN_ACTIVITIES

    deal = {"stageId": "b2b.sales.offer", "assignedById": REP, "title": "ООО Вектор"}
    ch = Change("m", "deal", 7, STAGE_ENTERED, "c", stage_from="b2b.sales.needs",
                stage_to="b2b.sales.offer", after=deal)  # fmt: skip
    bare = RuleContext(ch, deal, {DEAL_OPEN_ACTIVITIES: []}, defaults("b2b"), None, NOW)
    back, note, told = N.moved_without_step(bare)
    assert back.stage == "b2b.sales.needs" and "«ООО Вектор»" in note.text
    assert told.user_ids == (REP,)
    planned = RuleContext(ch, deal, {DEAL_OPEN_ACTIVITIES: [{"ID": 3}]}, defaults("b2b"), None, NOW)
    assert N.moved_without_step(planned) == []
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
