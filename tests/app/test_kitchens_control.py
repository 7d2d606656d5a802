"""Kitchens error control: every stage's list, formats, move-back, and the "blocked" guard."""

from __future__ import annotations

import pytest

from app.playbooks.kitchens import rules_agreed, rules_control, rules_scoring, rules_workplan
from app.playbooks.kitchens.rules_control import (
    AGREED,
    ASSIGNED,
    LOST,
    MEASUREMENT,
    NEXT_CONTACT,
    PROPOSAL,
    QUALIFIED,
    UNPROCESSED,
)
from app.rules import actions as A
from app.rules.model import FIELD_CHANGED
from tests.app.test_kitchens_scoring import FULL
from tests.app.test_kitchens_support import MEASURER, ctx, of

BASIC = ("UF_CRM_KT_BUDGET", "UF_CRM_KT_MATERIAL", "UF_CRM_KT_ADDRESS")
QUALIFICATION = (
    "UF_CRM_KT_HOUSE_TYPE",
    "UF_CRM_KT_KITCHEN_TYPE",
    "UF_CRM_KT_COUNTERTOP",
    "UF_CRM_KT_APRON",
    "UF_CRM_KT_APPLIANCES",
    "UF_CRM_KT_BUYER",
    "UF_CRM_KT_URGENCY",
)
BOOKING = ("UF_CRM_KT_MEASURE_AT", "UF_CRM_KT_MEASURER")
BOOKED = {
    **FULL,
    "UF_CRM_KT_MEASURE_AT": "2026-11-26T10:00:00+03:00",
    "UF_CRM_KT_MEASURER": MEASURER,
}

# stage entered → (fields it needs, the stage before it)
CASES = {
    QUALIFIED: (BASIC, ASSIGNED),
    PROPOSAL: (BASIC + QUALIFICATION, QUALIFIED),
    # the booking list belongs to «Замер назначен»: it must be complete to leave it
    NEXT_CONTACT: (BASIC + ("UF_CRM_KT_NEXT_CONTACT",), ASSIGNED),
    AGREED: (BASIC + QUALIFICATION, MEASUREMENT),
    LOST: (("UF_CRM_KT_LOST_REASON",), ASSIGNED),
}


EMAIL = {"typeId": "EMAIL", "valueType": "WORK", "value": "anna@example.ru"}


def full_for(stage):
    return {
        **BOOKED,
        "fm": [*BOOKED.get("fm", []), EMAIL],
        "UF_CRM_KT_NEXT_CONTACT": "2026-12-01",
        "UF_CRM_KT_LOST_REASON": "дорого",
        "stageId": stage,
    }


@pytest.mark.parametrize("stage", sorted(CASES))
def test_each_required_field_of_each_stage_sends_the_lead_back(stage):
    needed, before = CASES[stage]
    assert rules_control.control(ctx(full_for(stage), stage_from=before, stage_to=stage)) == []
    for field in needed:
        record = {**full_for(stage), field: None}
        out = rules_control.control(ctx(record, stage_from=before, stage_to=stage))
        assert of(out, A.MoveStage) == [A.MoveStage("lead", 7, before)], field
        comment = of(out, A.TimelineComment)[0].text
        label = next(r.label for r in rules_control.entry_rules(stage) if r.field == field)
        assert f"«{label}»: не заполнено" in comment
        assert of(out, A.Notify)[0].user_ids == (5,) and of(out, A.Notify)[0].message == comment


def test_booking_fields_are_needed_to_leave_measurement():
    assert {r.field for r in rules_control.entry_rules(MEASUREMENT)} == set(BASIC + QUALIFICATION)
    # leaving «Замер назначен» forward (to agreed) with no booking is fine for agreed's list,
    # but the list of «Замер назначен» itself names the booking fields
    assert {r.field for r in rules_control.REQUIREMENTS[MEASUREMENT]} == set(BOOKING)


def test_unprocessed_and_assigned_need_nothing():
    assert rules_control.entry_rules(UNPROCESSED) == []
    assert rules_control.entry_rules(ASSIGNED) == []
    record = {"stageId": ASSIGNED, "assignedById": 5}
    assert rules_control.control(ctx(record, stage_from=UNPROCESSED, stage_to=ASSIGNED)) == []


def test_a_malformed_email_and_phone_are_named_even_when_optional():
    record = {
        **full_for(QUALIFIED),
        "fm": [
            {"typeId": "EMAIL", "value": "ivan@mail"},
            {"typeId": "PHONE", "value": "8 (912) 345-67-89"},  # fine
            {"typeId": "PHONE", "value": "12-34"},
        ],
    }
    out = rules_control.control(ctx(record, stage_from=ASSIGNED, stage_to=QUALIFIED))
    text = of(out, A.TimelineComment)[0].text
    assert "«ivan@mail»" in text and "«12-34»" in text and "«8 (912)" not in text
    assert of(out, A.MoveStage)[0].stage == ASSIGNED


def test_a_bad_budget_number_is_a_problem_not_an_error():
    record = {**full_for(QUALIFIED), "UF_CRM_KT_BUDGET": "дорого"}
    out = rules_control.control(ctx(record, stage_from=ASSIGNED, stage_to=QUALIFIED))
    assert "«Бюджет»" in of(out, A.TimelineComment)[0].text


def test_shared_converted_stage_is_recognised_as_agreed():
    record = {**full_for(AGREED), "stageId": "metal.lead.converted", "UF_CRM_KT_APRON": ""}
    change_ctx = ctx(
        record,
        stage_from=MEASUREMENT,
        stage_to="metal.lead.converted",
        stage_to_codes=frozenset({"metal.lead.converted", AGREED}),
    )
    out = rules_control.control(change_ctx)
    assert of(out, A.MoveStage)[0].stage == MEASUREMENT
    assert rules_control.blocked(change_ctx)
    assert rules_agreed.convert(change_ctx) == []  # nothing else runs while blocked


def test_blocked_lead_gets_no_stage_work_and_the_move_back_is_not_forward():
    gap = {**full_for(PROPOSAL), "UF_CRM_KT_URGENCY": None}
    entered = ctx(gap, stage_from=QUALIFIED, stage_to=PROPOSAL)
    assert rules_control.blocked(entered)
    assert rules_workplan.on_proposal(entered) == []
    changed = ctx(gap, kind=FIELD_CHANGED, fields_changed=frozenset({"UF_CRM_KT_BUDGET"}))
    assert rules_scoring.on_answers(changed) == []
    # the control's move back to «Клиент наш» must not create its proposal task again
    back = ctx({**gap, "stageId": QUALIFIED}, stage_from=PROPOSAL, stage_to=QUALIFIED)
    assert not rules_control.blocked(back) and not rules_control.forward(back)
    assert rules_workplan.on_qualified(back) == []


def test_a_missing_client_email_is_caught_before_the_catalogue_is_sent():
    """Seed 002: «Если … было пропущено поле электронный адрес клиента, то система
    обязательно это проверит» — the catalogue and proposal go out by e-mail."""
    record = {**full_for(PROPOSAL), "fm": [{"typeId": "PHONE", "value": "+79001112233"}]}
    out = rules_control.control(ctx(record, stage_from=QUALIFIED, stage_to=PROPOSAL))
    (move,) = of(out, A.MoveStage)
    assert move.stage == QUALIFIED
    assert any(
        "E-mail клиента" in n.message and "по e-mail" in n.message for n in of(out, A.Notify)
    )
    # before the proposal an e-mail is not needed yet
    early = {**record, "stageId": QUALIFIED}
    assert rules_control.problems(early) == []
