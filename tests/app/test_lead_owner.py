"""metal + kitchens on one portal: the shared CONVERTED stage converts a lead once, by the
playbook that owns it (``app.playbooks.lead_owner``); the kitchens SOS starts on the shared
NEW stage. Pure rules, with the stage codes the installer's SchemaMap gives both installed."""

from __future__ import annotations

from datetime import UTC, datetime

from app.playbooks.kitchens import rules_agreed, rules_control, rules_sos
from app.playbooks.lead_owner import lead_owner, own_lead_fields
from app.playbooks.metal import rules_conversion
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import CREATED, STAGE_ENTERED, Change, RuleContext
from tests.app.test_kitchens_control import full_for

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CONVERTED = frozenset({"metal.lead.converted", "kitchens.lead.agreed"})
NEW = frozenset({"metal.lead.unprocessed", "kitchens.lead.unprocessed"})
SHARED = {"CONVERTED": sorted(CONVERTED), "NEW": sorted(NEW)}


class BothInstalled:
    """The SchemaMap lookups the rules use, as after installing metal and kitchens: the
    shared stages keep metal's code (metal comes first in app.playbooks.NAMES)."""

    def stage_id(self, entity, code):
        for raw, codes in SHARED.items():
            if code in codes:
                return raw
        return code

    def stage_codes(self, entity, raw):
        return SHARED.get(raw, [raw])

    def enum_id(self, field, value, entity=None):
        return 1

    def category(self, code):
        return 0


def moved(record, stage_from, from_codes=frozenset(), playbook="kitchens"):
    record = {**record, "stageId": "metal.lead.converted"}
    change = Change(
        "m",
        "lead",
        7,
        STAGE_ENTERED,
        "stage:x>y@1",
        stage_from=stage_from,
        stage_to="metal.lead.converted",
        before={},
        after=record,
        stage_from_codes=from_codes or frozenset({stage_from}),
        stage_to_codes=CONVERTED,
    )
    return RuleContext(change, record, {}, defaults(playbook), BothInstalled(), NOW)


def deals(actions):
    return [a for a in actions if isinstance(a, A.CreateRecord) and a.entity == "deal"]


def converted_by(record, stage_from, from_codes=frozenset()):
    """How many deals each playbook's conversion rule creates for this move."""
    kitchens = rules_agreed.convert(moved(record, stage_from, from_codes, "kitchens"))
    metal = rules_conversion.convert(moved(record, stage_from, from_codes, "metal"))
    return len(deals(kitchens)), len(deals(metal))


KITCHENS_LEAD = {**full_for("kitchens.lead.agreed"), "title": "Кухня", "assignedById": 3}
METAL_LEAD = {"title": "Ангар", "assignedById": 3, "UF_CRM_MT_WIDTH": 12, "UF_CRM_MT_LENGTH": 24}


def test_a_lead_worked_through_kitchens_stages_is_converted_by_kitchens_only():
    assert converted_by(KITCHENS_LEAD, "kitchens.lead.measurement") == (1, 0)
    ctx = moved(KITCHENS_LEAD, "kitchens.lead.measurement")
    assert lead_owner(ctx) == "kitchens"
    assert rules_control.control(ctx) == []  # complete: not moved back either


def test_a_lead_worked_through_metal_stages_is_converted_by_metal_only():
    assert converted_by(METAL_LEAD, "metal.lead.handed_over") == (0, 1)
    # and the kitchens error control does not send the metal lead back for kitchen answers
    assert rules_control.control(moved(METAL_LEAD, "metal.lead.handed_over")) == []


def test_straight_from_the_shared_new_stage_the_filled_fields_decide():
    assert converted_by(KITCHENS_LEAD, "metal.lead.unprocessed", NEW) == (1, 0)
    assert converted_by(METAL_LEAD, "metal.lead.unprocessed", NEW) == (0, 1)


def test_no_evidence_at_all_falls_to_the_playbook_that_kept_the_shared_stage():
    bare = {"title": "Без данных", "assignedById": 3}
    assert lead_owner(moved(bare, "metal.lead.unprocessed", NEW)) == "metal"
    assert converted_by(bare, "metal.lead.unprocessed", NEW) == (0, 1)


def test_own_fields_leave_out_codes_both_playbooks_declare():
    assert "UF_CRM_KT_BUDGET" in own_lead_fields("kitchens")
    assert "UF_CRM_MT_WIDTH" in own_lead_fields("metal")
    assert not own_lead_fields("kitchens") & own_lead_fields("metal")


def test_with_one_playbook_installed_it_owns_every_lead():
    change = Change(
        "m",
        "lead",
        7,
        STAGE_ENTERED,
        "c",
        stage_from="metal.lead.unprocessed",
        stage_to="metal.lead.converted",
        before={},
        after=METAL_LEAD,
    )
    ctx = RuleContext(change, METAL_LEAD, {}, defaults("metal"), BothInstalled(), NOW)
    assert lead_owner(ctx) == "metal"
    assert len(deals(rules_conversion.convert(ctx))) == 1


def test_sos_starts_on_the_shared_new_stage_under_metals_code():
    record = {"title": "Звонок", "stageId": "metal.lead.unprocessed", "assignedById": 1}
    change = Change("m", "lead", 7, CREATED, "created", after=record, stage_to_codes=frozenset(NEW))
    ctx = RuleContext(change, record, {}, defaults("kitchens"), BothInstalled(), NOW)
    (start,) = rules_sos.start_sos(ctx)
    assert isinstance(start, A.StartTimer) and start.kind == "kitchens.sos"
    # the timer re-checks the stage as the record carries it: not cancelled at once
    from app.timers.conditions import cancel_reason

    assert cancel_reason("lead_taken", record, start.payload) is None
    taken = {**record, "assignedById": 4}
    taken_ctx = RuleContext(change, taken, {}, defaults("kitchens"), BothInstalled(), NOW)
    out = rules_sos.lead_taken(taken_ctx)
    assert [a.stage for a in out if isinstance(a, A.MoveStage)] == ["kitchens.lead.assigned"]
