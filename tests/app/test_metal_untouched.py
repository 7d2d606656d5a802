"""Metal: untouched leads are flagged to the head of sales, then moved to «Зависшие лиды»
(README «escalation of untouched leads»; the seed's «Зависшие лиды» stage). Pure rules; time
moves by building the firing context at a later ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.playbooks.metal import rules_untouched as U
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import CREATED, RESPONSIBLE_CHANGED, STAGE_ENTERED
from app.timers.conditions import cancel_reason
from tests.app._timer_ctx import ctx, fired, only

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
SETTINGS = defaults("metal")
LEAD = {"title": "Ангар 20×40", "stageId": "metal.lead.handed_over", "assignedById": 5}
HEAD = {"head_of_sales": (2,)}


def _start(record=LEAD, kind=STAGE_ENTERED):
    out = U.restart(ctx(kind, record, SETTINGS, T0))
    assert isinstance(out[0], A.CancelTimer)  # a restart drops the previous clock
    (start,) = only(out, A.StartTimer)
    return start


def _fire(start, now, record=LEAD):
    return U.UNTOUCHED.rule("f").decide(fired(start, record, SETTINGS, now, HEAD))


def test_untouched_for_a_day_the_head_of_sales_is_told_then_after_two_weeks_it_is_stalled():
    start = _start()
    assert start.due_at == T0 + timedelta(hours=24) and start.cancel_on == "lead_untouched"
    out = _fire(start, start.due_at)
    (note,) = only(out, A.Notify)
    assert note.user_ids == (2,)
    assert "«Ангар 20×40»" in note.message and "24 ч" in note.message
    assert "«Передан менеджеру»" in note.message
    (nxt,) = only(out, A.StartTimer)
    assert nxt.due_at == T0 + timedelta(days=14)
    out = _fire(nxt, nxt.due_at)
    (move,) = only(out, A.MoveStage)
    assert move.stage == U.STALLED
    (told,) = only(out, A.Notify)
    assert told.user_ids == (5,) and "«Зависшие лиды»" in told.message
    assert only(out, A.StartTimer) == []


def test_a_lead_worked_on_or_moved_on_is_left_alone():
    payload = _start().payload
    assert cancel_reason("lead_untouched", LEAD, payload) is None
    # an activity on the lead (a call, an e-mail, a to-do) starts its clock over
    call = {"OWNER_TYPE_ID": "1", "OWNER_ID": "7", "TYPE_ID": "2"}
    later = T0 + timedelta(hours=20)
    out = U.activity_added(ctx(CREATED, call, SETTINGS, later, entity="activity", rid=90))
    stop, start = out
    assert stop.record == ("lead", 7) and isinstance(stop, A.CancelTimer)
    assert start.record == ("lead", 7) and start.due_at == later + timedelta(hours=24)
    on_deal = {**call, "OWNER_TYPE_ID": "2"}
    assert U.activity_added(ctx(CREATED, on_deal, SETTINGS, later, entity="activity")) == []
    for done in ("metal.lead.converted", "metal.lead.declined", U.STALLED):
        assert cancel_reason("lead_untouched", {**LEAD, "stageId": done}, payload)


def test_the_clock_restarts_on_a_move_or_a_new_responsible_and_stops_outside_active_stages():
    assert _start(kind=CREATED).payload["since"] == T0.isoformat()
    assert _start(kind=RESPONSIBLE_CHANGED).payload["stage"] == "metal.lead.handed_over"
    out = U.restart(ctx(STAGE_ENTERED, {**LEAD, "stageId": "metal.lead.converted"}, SETTINGS, T0))
    assert [type(a) for a in out] == [A.CancelTimer]


def test_after_an_outage_past_both_steps_only_the_move_happens():
    out = _fire(_start(), T0 + timedelta(days=20))
    assert [type(a) for a in out if not isinstance(a, A.Notify)] == [A.MoveStage, A.TimelineComment]
    assert all(n.user_ids == (5,) for n in only(out, A.Notify))


def test_deferred_demand_texts_are_settings():
    """Every text a client or an employee receives is a setting (issue #24)."""
    from app.playbooks.metal import rules_deals

    settings = {
        **SETTINGS,
        "deferred_reminder_1_text": "Проект «{title}»: сроки не сдвинулись?",
        "resume_task_text": "Позвонить по «{title}»",
    }
    deal = {"title": "Склад", "stageId": rules_deals.DEFERRED, "assignedById": 4}
    (start,) = rules_deals._start_cadence(ctx(STAGE_ENTERED, deal, settings, T0, entity="deal"))
    rule = rules_deals.CADENCE.rule("f")
    out = rule.decide(fired(start, deal, settings, start.due_at))
    assert only(out, A.MessageClient)[0].text == "Проект «Склад»: сроки не сдвинулись?"
    late = rule.decide(fired(start, deal, settings, T0 + timedelta(days=200)))
    assert only(late, A.CreateTask)[0].title == "Позвонить по «Склад»"
    # the defaults read as before
    default = rules_deals.CADENCE.rule("f").decide(fired(start, deal, SETTINGS, start.due_at))
    assert "Напоминаем о вашем проекте «Склад»" in only(default, A.MessageClient)[0].text
