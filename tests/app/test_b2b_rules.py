"""B2B rules, pure: the sample photo at «Встреча», no open deal without a next step."""

from __future__ import annotations

from datetime import UTC, datetime

from app.playbooks.b2b import rules_next_step, rules_samples
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import FIELD_CHANGED, STAGE_ENTERED, Change, RuleContext
from app.sync.fetch import OWNER_OPEN_ACTIVITIES

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # Friday 18:00 Moscow: the day is over
REP = 4


class Schema:
    stages = {
        "C5:MEETING": "b2b.cold.meeting",
        "C3:OFFER": "b2b.sales.offer",
        "C3:WON": "b2b.sales.won",
    }

    def stage_code(self, entity, raw):
        return self.stages.get(raw, raw)

    def stage_codes(self, entity, raw):
        return [self.stages.get(raw, raw)]

    def stage_id(self, entity, code):
        return code

    def field_code(self, entity, raw):
        return raw

    def field_name(self, entity, code):
        return code


def ctx(record, related=None, entity="deal", kind=STAGE_ENTERED, **change):
    ch = Change("m", entity, 7, kind, "c", after=record, **change)
    return RuleContext(ch, record, related or {}, defaults("b2b"), Schema(), NOW)


# -- samples ---------------------------------------------------------------------------------


def cold(stage, **extra):
    return {"id": 7, "stageId": stage, "assignedById": REP, "title": "Магазин у дома", **extra}


def test_leaving_the_meeting_without_the_sample_photo_goes_back():
    c = ctx(cold("b2b.cold.sample"), stage_from="b2b.cold.meeting", stage_to="b2b.cold.sample")
    move, comment, note = rules_samples.sample_photo_required(c)
    assert isinstance(move, A.MoveStage) and move.stage == "b2b.cold.meeting"
    assert "Фото образца" in comment.text and note.user_ids == (REP,)


def test_with_a_photo_or_moving_elsewhere_nothing_happens():
    photo = {"id": 12, "showUrl": "/file/12"}
    with_photo = cold("b2b.cold.sample", UF_CRM_B2B_SAMPLE_PHOTO=photo)
    c = ctx(with_photo, stage_from="b2b.cold.meeting", stage_to="b2b.cold.sample")
    assert rules_samples.sample_photo_required(c) == []
    # from «Новая точка» straight on, or from meeting to «Отказ»: not this rule's business
    other = ctx(cold("b2b.cold.sample"), stage_from="b2b.cold.new", stage_to="b2b.cold.sample")
    assert rules_samples.sample_photo_required(other) == []
    lost = ctx(cold("b2b.cold.lost"), stage_from="b2b.cold.meeting", stage_to="b2b.cold.lost")
    assert rules_samples.sample_photo_required(lost) == []


# -- next step -------------------------------------------------------------------------------


def completed(owner_stage="C3:OFFER", others=(), owner_type="2", who=REP):
    activity = {"ID": "50", "COMPLETED": "Y", "OWNER_TYPE_ID": owner_type, "OWNER_ID": "7"}
    owner = {"id": 7, "stageId": owner_stage, "assignedById": who, "title": "Опт"}
    related = {"owner": owner, OWNER_OPEN_ACTIVITIES: [{"ID": str(i)} for i in others]}
    return ctx(
        activity,
        related,
        entity="activity",
        kind=FIELD_CHANGED,
        fields_changed=frozenset({"COMPLETED"}),
    )


def test_the_last_activity_closed_tells_the_responsible_and_plans_a_follow_up():
    note, todo = rules_next_step.next_step(completed(others=("50",)))  # itself is not "other"
    assert note.user_ids == (REP,) and "без следующего шага" in note.message
    assert isinstance(todo, A.CreateTodo) and todo.record == ("deal", 7)
    assert todo.responsible_id == REP and todo.title == "Следующий шаг по сделке «Опт»"
    # Friday 18:00 + 24 h = Saturday 18:00 → Monday 09:00 Moscow
    assert todo.deadline == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def test_no_follow_up_when_another_step_is_planned_or_the_deal_is_closed_or_not_b2b():
    assert rules_next_step.next_step(completed(others=("51",))) == []
    assert rules_next_step.next_step(completed(owner_stage="C3:WON")) == []
    assert rules_next_step.next_step(completed(owner_stage="C9:NEW")) == []
    assert rules_next_step.next_step(completed(owner_type="1")) == []  # a lead's activity
    assert rules_next_step.next_step(completed(who=None)) == []
    reopened = completed()
    reopened = RuleContext(
        reopened.change, {**reopened.record, "COMPLETED": "N"}, reopened.related,
        reopened.settings, reopened.schema, NOW,
    )  # fmt: skip
    assert rules_next_step.next_step(reopened) == []
