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
