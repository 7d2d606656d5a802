"""Kitchens task chain: task events → the task's mirror → "task completed" → the next task.

Pure parts (event routing, change detection, the chain rules) and the job against the
emulator over HTTP (the real gateway, the store in SQLite): our tasks are mirrored with
their plan step when created, a completed one creates the next task exactly once, other
people's tasks cost no read.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from app.playbooks.kitchens import rules_tasks, rules_workplan
from app.playbooks.kitchens.rules_control import (
    AGREED,
    LOST,
    MEASUREMENT,
    NEXT_CONTACT,
    PROPOSAL,
    QUALIFIED,
)
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.apply import DONE, DUPLICATE, apply_with
from app.rules.changes import diff
from app.rules.model import TASK_COMPLETED, Change, RuleContext
from app.rules.naming import PlainNaming
from app.store import mirror
from app.store.base import Base
from app.sync.context import PortalContext
from app.sync.events_map import record_of
from app.sync.process import process_record
from app.sync.tasks import BOUND, TAG, bindings, snapshot
from tests.app._events_fakes import emu_requests, gateway_client
from tests.app.test_kitchens_control import full_for
from tests.app.test_kitchens_support import MANAGER, NOW, SCHEMA, ctx, of

M = "member-kt"


# -- routing and change detection ------------------------------------------------------------


def test_task_events_name_the_task_from_either_side():
    update = {"FIELDS_BEFORE": {"ID": "12"}, "FIELDS_AFTER": {"ID": "12"}}
    assert record_of("ONTASKUPDATE", update) == ("task", 12)
    assert record_of("ONTASKADD", {"FIELDS_BEFORE": "undefined", "FIELDS_AFTER": {"ID": 5}}) == (
        "task",
        5,
    )
    deleted = {"FIELDS_BEFORE": {"ID": "9"}, "FIELDS_AFTER": "undefined"}
    assert record_of("ontaskdelete", deleted) == ("task", 9)
    assert record_of("ONTASKUPDATE", {"FIELDS_BEFORE": "undefined"}) is None
    assert record_of("ONTASKCOMMENTADD", {"FIELDS_AFTER": {"ID": 1, "TASK_ID": 2}}) is None


def _task(status, **extra):
    raw = {"id": "40", "title": "Замер: Кухня", "status": status, "changedDate": extra.pop("at")}
    return {**snapshot({**raw, "ufCrmTask": ["L_7"]}), TAG: "kitchens.measurer", **extra}


def test_completion_is_one_change_per_task_whatever_its_version():
    open_ = _task("2", at="2026-11-23T10:00:00+03:00")
    done = _task("5", at="2026-11-23T11:00:00+03:00", closedDate="2026-11-23T11:00:00+03:00")
    changes = diff(M, "task", 40, open_, done)
    completed = [c for c in changes if c.kind == TASK_COMPLETED]
    assert len(completed) == 1 and completed[0].detail == {"name": "kitchens.measurer"}
    # reopened and closed again later: the same cause, so the same idempotency keys
    again = _task("5", at="2026-11-24T09:00:00+03:00", closedDate="2026-11-24T09:00:00+03:00")
    reopened = _task("3", at="2026-11-24T08:00:00+03:00")
    later = [c for c in diff(M, "task", 40, reopened, again) if c.kind == TASK_COMPLETED]
    assert later[0].cause == completed[0].cause
    # still done, only the title changed: nothing completed
    renamed = {**done, "title": "Замер (перенесён)"}
    assert not [c for c in diff(M, "task", 40, done, renamed) if c.kind == TASK_COMPLETED]


def test_bindings_parse_crm_binding_strings():
    assert bindings({"ufCrmTask": ["L_7", "D_3", "T80_1", "CO_2", "junk"]}) == [
        ("lead", 7),
        ("deal", 3),
        ("company", 2),
    ]


# -- the chain rules (pure) ------------------------------------------------------------------


def task_ctx(tag, lead, lead_id=7):
    change = Change(M, "task", 40, TASK_COMPLETED, "task:completed", detail={"name": tag})
    related = {BOUND: {"entity": "lead", "id": lead_id, "record": lead} if lead else None}
    settings = {**defaults("kitchens")}
    return RuleContext(change, {"id": "40"}, related, settings, SCHEMA, NOW)


def lead_in(stage, **extra):
    return {**full_for(stage), "title": "Кухня", "assignedById": MANAGER, **extra}


def test_closed_visit_gives_the_manager_the_final_proposal_once_per_lead():
    (final,) = rules_tasks.after_visit(task_ctx("kitchens.measurer", lead_in(MEASUREMENT)))
    assert final.title == "Финальное КП после замера: Кухня"
    assert final.responsible_id == MANAGER and final.bind_to == ("lead", 7)
    assert final.tag == "kitchens.final" and final.once == "kitchens.plan:final:lead:7"
    assert final.deadline == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # next working day
    assert "Отправить финальное КП" in final.checklist


def test_the_final_proposal_closes_only_with_an_outcome_else_it_comes_back():
    """Seed 002: «Задача закрывается только в случае» agreement, refusal or a pause."""
    early = task_ctx("kitchens.final", lead_in(MEASUREMENT))
    again, told, note = rules_tasks.final_closed(early)
    # the same task renewed with a new deadline (tasks.task.renew), not a second task
    assert isinstance(again, A.UpdateTask) and again.renew
    assert again.task_id == early.change.record_id and again.responsible_id == MANAGER
    assert again.deadline == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert told.user_ids == (MANAGER,) and "закрыта без результата" in told.message
    assert note.entity == "lead" and note.record_id == 7
    for outcome in (AGREED, LOST, NEXT_CONTACT):
        assert rules_tasks.final_closed(task_ctx("kitchens.final", lead_in(outcome))) == []


def test_nothing_follows_for_a_closed_blocked_unassigned_or_unbound_lead():
    assert rules_tasks.after_visit(task_ctx("kitchens.measurer", lead_in(LOST))) == []
    gaps = lead_in(MEASUREMENT, UF_CRM_KT_BUDGET="")
    assert rules_tasks.after_visit(task_ctx("kitchens.measurer", gaps)) == []
    nobody = lead_in(MEASUREMENT, assignedById=None)
    assert rules_tasks.after_visit(task_ctx("kitchens.measurer", nobody)) == []
    assert rules_tasks.after_visit(task_ctx("kitchens.measurer", None)) == []


def test_closed_proposal_and_the_stage_move_ask_for_the_same_single_followup():
    by_task = rules_tasks.after_proposal(task_ctx("kitchens.proposal", lead_in(PROPOSAL)))
    stage = ctx(lead_in(PROPOSAL), stage_from=QUALIFIED, stage_to=PROPOSAL)
    by_stage = of(rules_workplan.on_proposal(stage), A.CreateTask)
    assert by_task[0].once == by_stage[0].once == "kitchens.plan:followup:lead:7"
    assert by_task[0].tag == "kitchens.followup"


# -- the job against the emulator ------------------------------------------------------------


@pytest.fixture
def world(emulator, redis_conn):
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine)
    client = gateway_client(emulator, redis_conn, M)
    ctx = PortalContext(
        member_id=M,
        session_factory=sessions,
        client=client,
        naming=PlainNaming(),
        redis=redis_conn,
        playbooks=("kitchens",),
        settings={"kitchens": defaults("kitchens")},
        now=lambda: NOW,
    )
    with sessions() as s:  # the lead as the mirror knows it (the rules read it from there)
        mirror.put(s, M, "lead", 7, {"id": 7, **lead_in(MEASUREMENT)})
        s.commit()
    return ctx


def _create(ctx, key, who, rule="kitchens.plan_confirmed", cause="c1"):
    action = rules_workplan.lead_task(
        ctx.settings["kitchens"], key, 7, {"title": "Кухня"}, who, NOW
    )
    report = apply_with(
        ctx.session_factory, ctx.client, ctx.naming, M, [action], cause=cause, rule=rule
    )
    assert report.outcomes[0].status in (DONE, DUPLICATE)
    return int(report.outcomes[0].result["id"]), report


def _tasks(ctx):
    return ctx.client.call(
        "tasks.task.list", {"filter": {"UF_CRM_TASK": "L_7"}, "select": ["ID", "TITLE"]}
    )


def _titles(ctx):
    reply = _tasks(ctx)
    rows = reply["tasks"] if isinstance(reply, dict) else reply
    return sorted(str(t["title"]).split(":")[0] for t in rows)


def _complete(ctx, task_id, status=5):
    ctx.client.call("tasks.task.update", {"taskId": task_id, "fields": {"STATUS": status}})


def test_closing_the_visit_creates_the_final_proposal_exactly_once(world, emulator):
    ctx = world
    visit, _ = _create(ctx, "measurer", 5)
    with ctx.session_factory() as s:  # mirrored when created, with its plan step
        mirrored = mirror.get(s, M, "task", visit)
    assert mirrored[TAG] == "kitchens.measurer" and mirrored["ufCrmTask"] == ["L_7"]
    # its ADD/UPDATE echo: nothing new
    assert process_record(ctx, "task", visit).changes == []

    _complete(ctx, visit)
    done = process_record(ctx, "task", visit)
    assert "task_completed" in done.changes and done.rules == ["kitchens.chain_final"]
    assert done.actions_done == 1
    assert _titles(ctx) == ["Замер", "Финальное КП после замера"]

    # the event replayed, and the task reopened and closed again: still one final proposal
    assert process_record(ctx, "task", visit).changes == []
    _complete(ctx, visit, status=3)
    process_record(ctx, "task", visit)
    _complete(ctx, visit)
    again = process_record(ctx, "task", visit)
    assert "task_completed" in again.changes and again.actions_done == 0
    # a second visit task (a rescheduled measurement) closed: the lead has its final proposal
    second, _ = _create(ctx, "measurer", 5, cause="c2")
    _complete(ctx, second)
    assert process_record(ctx, "task", second).duplicates == 1
    assert _titles(ctx) == ["Замер", "Замер", "Финальное КП после замера"]
    # the final proposal (created by the rules' pass) closed later is seen as closed too —
    # and, the lead having no outcome yet, the same task comes back: renewed, pending again
    # (tasks.task.renew, api-reference/tasks/tasks-task-renew.md), not a second task
    final = next(t for t in _tasks(ctx)["tasks"] if t["title"].startswith("Финальное"))
    _complete(ctx, int(final["id"]))
    closed = process_record(ctx, "task", int(final["id"]))
    assert "task_completed" in closed.changes
    assert closed.rules == ["kitchens.final_needs_outcome"]
    assert _titles(ctx).count("Финальное КП после замера") == 1
    renewed = ctx.client.call("tasks.task.get", {"taskId": int(final["id"])})["task"]
    assert renewed["status"] == "2" and renewed["deadline"]
    # its echo is no new change; closed again without an outcome, it is renewed again
    assert process_record(ctx, "task", int(final["id"])).changes == []
    emulator.admin.clock(advance=120)  # closed again two minutes later
    _complete(ctx, int(final["id"]))
    twice = process_record(ctx, "task", int(final["id"]))
    assert twice.rules == ["kitchens.final_needs_outcome"] and twice.actions_done >= 1
    again = ctx.client.call("tasks.task.get", {"taskId": int(final["id"])})["task"]
    assert again["status"] == "2" and _titles(ctx).count("Финальное КП после замера") == 1
    # the final proposal task was mirrored, tagged, so it is ours too
    with ctx.session_factory() as s:
        tags = sorted(r.data.get(TAG) for r in mirror.records(s, M, "task"))
    assert tags == ["kitchens.final", "kitchens.measurer", "kitchens.measurer"]


def test_followup_once_whether_the_task_closes_or_the_lead_moves_first(world):
    ctx = world
    proposal, _ = _create(ctx, "proposal", 3, rule="kitchens.plan_proposal")
    _complete(ctx, proposal)
    assert process_record(ctx, "task", proposal).rules == ["kitchens.chain_followup"]
    # the manager moves the lead to «Каталог и КП отправлены» afterwards: same task, skipped
    action = rules_workplan.followup(ctx.settings["kitchens"], 7, {"title": "Кухня"}, 3, NOW)
    report = apply_with(
        ctx.session_factory,
        ctx.client,
        ctx.naming,
        M,
        [action],
        cause="stage:kitchens.lead.qualified>kitchens.lead.proposal@x",
        rule="kitchens.plan_followup",
        record=("lead", 7),
    )
    assert report.outcomes[0].status == DUPLICATE
    assert _titles(ctx) == ["Перезвонить клиенту по КП", "Подготовить и отправить каталог и КП"]


def test_other_tasks_cost_no_read_and_a_deleted_task_leaves_the_mirror(world, emulator):
    ctx = world
    foreign = ctx.client.call("tasks.task.add", {"fields": {"TITLE": "Чужая", "RESPONSIBLE_ID": 1}})
    before = emu_requests(emulator)
    assert process_record(ctx, "task", int(foreign["task"]["id"])).changes == ["foreign"]
    assert emu_requests(emulator) == before
    ours, _ = _create(ctx, "proposal", 3)
    ctx.client.call("tasks.task.delete", {"taskId": ours})
    assert process_record(ctx, "task", ours).changes == ["deleted"]
    with ctx.session_factory() as s:
        assert mirror.get(s, M, "task", ours) is None


# -- offline catch-up and reconciliation -------------------------------------------------------


class OfflineQueue:
    """``event.offline.*`` of a portal that kept a task event and a lead event for us."""

    def __init__(self, rows):
        self.rows, self.calls = rows, []

    def call(self, method, params):
        self.calls.append(method)
        if method == "event.offline.get":
            rows, self.rows = self.rows, []
            return {"process_id": "p1", "events": rows}
        return True


def test_offline_catch_up_routes_task_rows_to_the_task(world):
    from dataclasses import replace

    from app.sync.offline import catch_up

    rows = [
        {
            "MESSAGE_ID": "1",
            "EVENT_NAME": "ONTASKUPDATE",
            "EVENT_DATA": {"FIELDS_BEFORE": {"ID": "40"}, "FIELDS_AFTER": {"ID": "40"}},
        },
        {"MESSAGE_ID": "2", "EVENT_NAME": "ONTASKCOMMENTADD", "EVENT_DATA": {}},
    ]
    seen = []
    queue = OfflineQueue(rows)
    out = catch_up(replace(world, client=queue), process=lambda c, e, i: seen.append((e, i)))
    assert seen == [("task", 40)] and out.errors == [] and out.rows == 2
    assert queue.calls[-1] == "event.offline.clear"


def test_reconciliation_leaves_tasks_to_events(world):
    from app.sync.reconcile import reconcile

    assert "task" in world.table.entities()
    out = reconcile(world)
    assert out.errors == []
    with world.session_factory() as s:  # no listing was attempted for tasks
        assert mirror.checkpoint(s, M, "task", "reconcile").last_modified is None
