"""apply_with: one batch, exactly-once effects across replays and crashes, audit, mirror."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.rules import actions as A
from app.rules.apply import DONE, DUPLICATE, FAILED, UNCERTAIN, apply_with
from app.rules.naming import PlainNaming
from app.store import audit, mirror
from app.store.base import Base

M = "member-1"
NAMING = PlainNaming(
    entity_types={"metal.object": 1220},
    fields={"lead": {"UF_CRM_OBJ_LINK": "ufCrm_OBJ_LINK"}, "metal.object": {"UF_CRM_W": "ufCrm5W"}},
    stages={"lead": {"metal.lead.done": "UC_DONE"}},
)


class FakePortal:
    """A tiny portal answering batch the way the gateway reports it (results + errors)."""

    def __init__(self):
        self.items = {(1, 5): {"id": 5, "stageId": "NEW", "updatedTime": "t0"}}
        self.batches = []
        self.notes = []
        self.next_id = 100
        self.fail_methods = set()

    def batch(self, cmd, halt=False):
        self.batches.append(cmd)
        results, errors = {}, {}
        for label, (method, params) in cmd.items():
            params = self._subst(params, results)
            if method in self.fail_methods:
                errors[label] = {"error": "ACCESS_DENIED", "error_description": "no"}
                continue
            results[label] = getattr(self, method.replace(".", "_"))(params)
        return {"result": results, "result_error": errors}

    def _subst(self, value, results):
        if isinstance(value, dict):
            return {k: self._subst(v, results) for k, v in value.items()}
        if isinstance(value, list):
            return [self._subst(v, results) for v in value]
        if isinstance(value, str) and value.startswith("$result["):
            parts = re.findall(r"\[([^\]]+)\]", value)
            out = results[parts[0]]
            for p in parts[1:]:
                out = out[p]
            return out
        return value

    def crm_item_add(self, p):
        self.next_id += 1
        item = {"id": self.next_id, **p["fields"], "updatedTime": "t1"}
        self.items[(p["entityTypeId"], self.next_id)] = item
        return {"item": item}

    def crm_item_update(self, p):
        item = self.items[(p["entityTypeId"], int(p["id"]))]
        item.update(p["fields"], updatedTime="t2")
        return {"item": dict(item)}

    def im_notify_system_add(self, p):
        self.notes.append((p["USER_ID"], p["MESSAGE"]))
        return len(self.notes)

    def tasks_task_add(self, p):
        self.next_id += 1
        return {"task": {"id": str(self.next_id), "title": p["fields"]["TITLE"]}}

    def task_checklistitem_add(self, p):
        self.notes.append(("checklist", p["TASKID"], p["FIELDS"]["TITLE"]))
        return 1


@pytest.fixture
def sessions():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    return sessionmaker(engine)


def run(sessions, portal, actions, cause="created"):
    return apply_with(
        sessions, portal, NAMING, M, actions, cause=cause, rule="pb.r1", record=("lead", 5)
    )


def test_create_and_link_in_one_batch_then_replay_does_nothing(sessions):
    portal = FakePortal()
    with sessions() as s:
        mirror.put(s, M, "lead", 5, portal.items[(1, 5)])
        s.commit()
    acts = [
        A.CreateRecord(
            "metal.object",
            {"UF_CRM_W": 12},
            link_from=("lead", 5),
            link_field="UF_CRM_OBJ_LINK",
            ref="o",
        ),
        A.MoveStage("lead", 5, "metal.lead.done"),
        A.Notify((7, 8), "object created"),
        A.CreateTask(
            "Call",
            7,
            deadline=datetime(2026, 11, 23, tzinfo=UTC),
            checklist=("a", "b"),
            bind_to=("lead", 5),
        ),
    ]
    report = run(sessions, portal, acts)
    assert [o.status for o in report.outcomes] == [DONE] * 4
    assert len(portal.batches) == 1
    assert (
        portal.items[(1, 5)]["ufCrm_OBJ_LINK"] == 101
        and portal.items[(1, 5)]["stageId"] == "UC_DONE"
    )
    assert portal.items[(1220, 101)]["ufCrm5W"] == 12
    assert portal.notes[:2] == [(7, "object created"), (8, "object created")]
    assert [n[2] for n in portal.notes[2:]] == ["a", "b"]
    with sessions() as s:  # the mirror holds what we wrote: the echo diffs to nothing
        assert mirror.get(s, M, "lead", 5) == portal.items[(1, 5)]
        assert mirror.get(s, M, "metal.object", 101)["ufCrm5W"] == 12

    again = run(sessions, portal, acts)
    assert [o.status for o in again.outcomes] == [DUPLICATE] * 4
    assert len(portal.batches) == 1 and len(portal.notes) == 4
    with sessions() as s:
        rows = audit.for_record(s, M, "lead", 5)
    assert [r.status for r in rows] == [DONE] * 4 + [DUPLICATE] * 4
    assert {r.rule for r in rows} == {"pb.r1"} and rows[0].cause == "created"


def test_a_different_cause_is_a_new_effect(sessions):
    portal = FakePortal()
    run(sessions, portal, [A.Notify((7,), "x")], cause="c1")
    run(sessions, portal, [A.Notify((7,), "x")], cause="c2")
    assert portal.notes == [(7, "x"), (7, "x")]


def test_failed_action_is_audited_and_retried_next_time_others_are_not(sessions):
    portal = FakePortal()
    portal.fail_methods = {"im.notify.system.add"}
    acts = [A.MoveStage("lead", 5, "metal.lead.done"), A.Notify((7,), "x")]
    report = run(sessions, portal, acts)
    assert [o.status for o in report.outcomes] == [DONE, FAILED]
    assert report.failed[0].error == "ACCESS_DENIED: no"
    portal.fail_methods = set()
    retry = run(sessions, portal, acts)
    assert [o.status for o in retry.outcomes] == [DUPLICATE, DONE]
    assert portal.notes == [(7, "x")]


def test_crash_after_claim_repeats_only_harmless_actions(sessions):
    portal = FakePortal()
    acts = [A.MoveStage("lead", 5, "metal.lead.done"), A.Notify((7,), "x")]

    class Crash(Exception):
        pass

    class DyingPortal(FakePortal):
        def batch(self, cmd, halt=False):
            super().batch(cmd, halt)
            raise Crash  # the portal did it, we never recorded it

    dying = DyingPortal()
    with pytest.raises(Crash):
        run(sessions, dying, acts)
    report = run(sessions, portal, acts)
    assert [o.status for o in report.outcomes] == [DONE, UNCERTAIN]
    assert portal.notes == [] and dying.notes == [(7, "x")]
    with sessions() as s:
        claims = s.scalars(select(audit.ActionClaim)).all()
    assert sorted(c.status for c in claims) == ["done", "pending"]


def test_timer_actions_are_skipped_and_audited_until_timers_exist(sessions, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "app.timers.service", None)
    portal = FakePortal()
    report = run(
        sessions, portal, [A.StartTimer("remind", datetime(2026, 12, 1, tzinfo=UTC), ("lead", 5))]
    )
    assert report.outcomes[0].status == "skipped"
    assert portal.batches == []
    with Session(sessions.kw["bind"]) as s:
        assert audit.for_record(s, M, "lead", 5)[0].status == "skipped"
