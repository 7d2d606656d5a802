"""The pure diff: mirror snapshot vs current record → changes."""

from app.rules.changes import diff
from app.rules.model import (
    CREATED,
    DELETED,
    FIELD_CHANGED,
    RESPONSIBLE_CHANGED,
    STAGE_ENTERED,
    STAGE_LEFT,
)
from app.rules.naming import PlainNaming

M = "member-1"
NAMING = PlainNaming(
    fields={"lead": {"UF_CRM_OBJ_WIDTH": "ufCrm_OBJ_WIDTH"}},
    stages={"lead": {"metal.lead.new": "NEW", "metal.lead.data_complete": "UC_DATA"}},
)


def lead(**over):
    base = {
        "id": 5,
        "title": "Lead #5",
        "stageId": "NEW",
        "assignedById": 1,
        "ufCrm_OBJ_WIDTH": 12.0,
        "updatedTime": "2026-11-22T10:00:00+03:00",
        "movedTime": "2026-11-22T09:00:00+03:00",
    }
    return {**base, **over}


def kinds(changes):
    return [c.kind for c in changes]


def test_new_record_is_created_and_enters_its_first_stage_as_a_stable_code():
    changes = diff(M, "lead", 5, None, lead(), NAMING)
    assert kinds(changes) == [CREATED, STAGE_ENTERED]
    assert changes[1].stage_to == "metal.lead.new"
    assert changes[0].after["UF_CRM_OBJ_WIDTH"] == 12.0


def test_identical_state_and_volatile_only_differences_are_no_change():
    assert diff(M, "lead", 5, lead(), lead(), NAMING) == []
    touched = lead(updatedTime="2026-11-22T11:00:00+03:00", updatedBy=7, lastActivityTime="x")
    assert diff(M, "lead", 5, lead(), touched, NAMING) == []


def test_stage_move_gives_left_and_entered_with_mapped_codes():
    after = lead(stageId="UC_DATA", movedTime="2026-11-22T10:05:00+03:00")
    changes = diff(M, "lead", 5, lead(), after, NAMING)
    assert kinds(changes) == [STAGE_LEFT, STAGE_ENTERED]
    assert {(c.stage_from, c.stage_to) for c in changes} == {
        ("metal.lead.new", "metal.lead.data_complete")
    }
    assert changes[0].cause == changes[1].cause


def test_responsible_and_field_changes_are_separate_kinds_with_stable_field_codes():
    after = lead(assignedById=9, ufCrm_OBJ_WIDTH=14, title="Renamed")
    changes = diff(M, "lead", 5, lead(), after, NAMING)
    assert kinds(changes) == [RESPONSIBLE_CHANGED, FIELD_CHANGED]
    assert changes[1].fields_changed == {"assignedById", "UF_CRM_OBJ_WIDTH", "title"}


def test_int_and_float_of_same_number_are_equal_but_empty_to_value_is_a_change():
    assert diff(M, "lead", 5, lead(), lead(ufCrm_OBJ_WIDTH=12), NAMING) == []
    before = lead(comments=None)
    changes = diff(M, "lead", 5, before, lead(comments="hi"), NAMING)
    assert kinds(changes) == [FIELD_CHANGED]
    assert changes[0].fields_changed == {"comments"}
    # a key that appears empty (newly selected field) is not a change
    assert diff(M, "lead", 5, lead(), lead(sourceDescription=""), NAMING) == []


def test_deleted_record():
    changes = diff(M, "lead", 5, lead(), None, NAMING)
    assert kinds(changes) == [DELETED]
    assert changes[0].before["stageId"] == "metal.lead.new"


def test_cause_is_stable_across_rereads_and_differs_between_versions():
    after = lead(title="A", updatedTime="2026-11-22T10:01:00+03:00")
    first = diff(M, "lead", 5, lead(), after, NAMING)
    again = diff(M, "lead", 5, lead(), dict(after), NAMING)
    assert [c.cause for c in first] == [c.cause for c in again]
    later = diff(
        M, "lead", 5, lead(), lead(title="A", updatedTime="2026-11-22T10:02:00+03:00"), NAMING
    )
    assert first[0].cause != later[0].cause


def test_reentering_the_same_stage_later_is_a_new_cause():
    moved_1 = lead(stageId="UC_DATA", movedTime="2026-11-22T10:05:00+03:00")
    moved_2 = lead(stageId="UC_DATA", movedTime="2026-11-23T10:05:00+03:00")
    c1 = diff(M, "lead", 5, lead(), moved_1, NAMING)[-1]
    c2 = diff(M, "lead", 5, lead(), moved_2, NAMING)[-1]
    assert c1.kind == c2.kind == STAGE_ENTERED
    assert c1.cause != c2.cause


class SharedStageNaming(PlainNaming):
    """Two playbooks installed together share the portal's NEW stage (like SchemaMap)."""

    def stage_codes(self, entity, raw):
        return ["metal.lead.new", "kitchens.lead.new"] if raw == "NEW" else []


def test_a_stage_shared_by_two_playbooks_matches_triggers_of_both():
    from app.rules.model import on_stage_entered, on_stage_left

    naming = SharedStageNaming(
        stages={"lead": {"metal.lead.new": "NEW", "metal.lead.data_complete": "UC_DATA"}}
    )
    created = diff(M, "lead", 5, None, lead(), naming)[1]
    assert created.stage_to == "metal.lead.new"
    assert on_stage_entered("kitchens.lead.new").matches(created)
    assert not on_stage_entered("kitchens.lead.won").matches(created)
    left = diff(M, "lead", 5, lead(), lead(stageId="UC_DATA"), naming)[0]
    assert left.kind == STAGE_LEFT and on_stage_left("kitchens.lead.new").matches(left)


def test_two_states_within_one_second_are_two_causes():
    """Ticked, cleared by the app and ticked again in the same second (updatedTime has
    whole seconds): the second tick is not the first one replayed."""
    same_second = "2026-11-22T10:01:00+03:00"
    first = lead(title="A", comments="visit Mon", updatedTime=same_second)
    second = lead(title="A", comments="visit Tue", updatedTime=same_second)
    c1 = diff(M, "lead", 5, lead(), first, NAMING)
    c2 = diff(M, "lead", 5, lead(), second, NAMING)
    assert c1[0].cause != c2[0].cause
    # a volatile field differing between re-reads of one state changes nothing
    reread = dict(first, lastActivityTime="2026-11-22T10:01:30+03:00")
    assert diff(M, "lead", 5, lead(), reread, NAMING)[0].cause == c1[0].cause
