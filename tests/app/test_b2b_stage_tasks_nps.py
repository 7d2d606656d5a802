"""B2B, pure: a task with a checklist per stage (setting ``stage_checklists``, seed 003
«автозадачи … чек-лист») and the survey after the first delivery (``nps_delay_days``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.playbooks.b2b import rules_nps, rules_stage_tasks
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import STAGE_ENTERED, TIMER_FIRED, Change, RuleContext

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # Friday 18:00 Moscow: the day is over
REP = 4


def ctx(record, settings=None, kind=STAGE_ENTERED, **change):
    ch = Change("m", "deal", 7, kind, "c", after=record, **change)
    return RuleContext(ch, record, {}, {**defaults("b2b"), **(settings or {})}, None, NOW)


def test_entering_a_stage_gives_its_responsible_the_stages_checklist_task():
    deal = {"stageId": "b2b.cold.meeting", "assignedById": REP, "title": "Кафе Ромашка"}
    (task,) = rules_stage_tasks.stage_task(ctx(deal, stage_to="b2b.cold.meeting"))
    assert task.responsible_id == REP and task.bind_to == ("deal", 7)
    assert task.title == "Встреча с точкой «Кафе Ромашка»"
    assert "Прикрепить фото образца" in task.checklist
    assert task.tag == "b2b.stage:b2b.cold.meeting"
    # 24 h after Friday 18:00 is Saturday: the next working moment is Monday 09:00 Moscow
    assert task.deadline == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def test_a_custom_table_replaces_the_defaults_and_a_stage_without_items_gets_nothing():
    table = {"b2b.sales.offer": ["Позвонить по КП «{title}»"], "b2b.sales.needs": []}
    deal = {"stageId": "b2b.sales.offer", "assignedById": REP, "title": "ООО Вектор"}
    c = ctx(deal, {"stage_checklists": table}, stage_to="b2b.sales.offer")
    (task,) = rules_stage_tasks.stage_task(c)
    assert task.checklist == ("Позвонить по КП «ООО Вектор»",)
    assert task.title == "Этап «Коммерческое предложение»: ООО Вектор"
    needs = {**deal, "stageId": "b2b.sales.needs"}
    assert (
        rules_stage_tasks.stage_task(
            ctx(needs, {"stage_checklists": table}, stage_to="b2b.sales.needs")
        )
        == []
    )
    # moved on again before the event was processed: no task for the stage it left
    assert rules_stage_tasks.stage_task(ctx(deal, stage_to="b2b.sales.invoice")) == []
    assert (
        rules_stage_tasks.stage_task(
            ctx({**deal, "assignedById": None}, stage_to="b2b.sales.offer")
        )
        == []
    )


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
