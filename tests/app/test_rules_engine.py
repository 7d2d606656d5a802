"""Triggers, the dispatch table and the engine's decide step."""

from datetime import UTC, datetime

import pytest

from app.rules import dispatch
from app.rules.actions import MoveStage, Notify
from app.rules.changes import diff
from app.rules.engine import decide
from app.rules.model import (
    Rule,
    on_any_update,
    on_created,
    on_field_changed,
    on_stage_entered,
)

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def _notify_head(ctx):
    return [Notify((ctx.settings["head"],), f"lead {ctx.change.record_id} created")]


def _boom(ctx):
    raise RuntimeError("rule bug")


RULES = [
    Rule("notify_head", "lead", on_created(), _notify_head),
    Rule("width", "lead", on_field_changed("UF_CRM_W"), lambda ctx: [MoveStage("lead", 5, "x")]),
    Rule("deal_only", "deal", on_created(), lambda ctx: [Notify((1,), "deal")]),
    Rule("stage", "lead", on_stage_entered("NEW"), lambda ctx: []),
    Rule("broken", "lead", on_any_update(), _boom),
]


@pytest.fixture
def table():
    dispatch.register("testbook", RULES)
    yield dispatch.table_for(["testbook"])
    dispatch.unregister("testbook")


def test_created_lead_reaches_only_matching_rules_with_playbook_settings(table):
    changes = diff("m", "lead", 5, None, {"id": 5, "stageId": "NEW"})
    decisions = decide(
        table,
        changes,
        record={},
        related={},
        settings={"testbook": {"head": 42}},
        schema=None,
        now=NOW,
    )
    assert [(d.rule.name, d.change.kind) for d in decisions] == [
        ("notify_head", "created"),
        ("stage", "stage_entered"),
    ]
    assert decisions[0].actions == (Notify((42,), "lead 5 created"),)
    assert decisions[0].rule.qualified_name() == "testbook.notify_head"


def test_field_trigger_filters_on_field_codes_and_a_failing_rule_is_isolated(table):
    changes = diff("m", "lead", 5, {"id": 5, "UF_CRM_W": 1}, {"id": 5, "UF_CRM_W": 2})
    decisions = decide(table, changes, record={}, related={}, settings={}, schema=None, now=NOW)
    by_rule = {d.rule.name: d for d in decisions}
    assert set(by_rule) == {"width", "broken"}
    assert by_rule["width"].actions == (MoveStage("lead", 5, "x"),)
    assert by_rule["broken"].error == "RuntimeError: rule bug"
    other = diff("m", "lead", 5, {"id": 5, "title": "a"}, {"id": 5, "title": "b"})
    assert [
        d.rule.name
        for d in decide(table, other, record={}, related={}, settings={}, schema=None, now=NOW)
    ] == ["broken"]


def test_unknown_playbook_has_no_rules_and_duplicate_names_are_refused():
    assert dispatch.table_for(["no_such_playbook"]).rules == ()
    dispatch.register("dup", [RULES[0], RULES[0]])
    try:
        # registered rules are taken as given; the module loader refuses duplicates
        assert len(dispatch.table_for(["dup"]).rules) == 2
    finally:
        dispatch.unregister("dup")


def test_action_slots_give_stable_keys_unless_rule_sets_one():
    a = Notify((1,), "x")
    assert a.slot(3) == "Notify#3"
    assert Notify((1,), "x", key="reminder-1").slot(3) == "reminder-1"
