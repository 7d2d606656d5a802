"""Kitchens visit and waiting tasks follow the lead instead of piling up.

A rescheduled measurement moves the open confirmation and measurer tasks (a new measurer
gets the task); confirming again reuses them; a cancelled booking sets them aside; a new
contact date moves the waiting task. Pure rules here; the store's task links and the
``tasks.task.update`` write-back against the emulator below.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import MetaData, create_engine
from sqlalchemy.orm import sessionmaker

from app.playbooks.kitchens import rules_measurement, rules_workplan
from app.playbooks.kitchens.rules_control import MEASUREMENT, NEXT_CONTACT, QUALIFIED
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.apply import DONE, apply_with
from app.rules.commands import build
from app.rules.model import FIELD_CHANGED, TIMER_FIRED, Change, RuleContext
from app.rules.naming import PlainNaming
from app.store import mirror, task_links
from app.store.base import Base
from app.sync.process import process_record
from app.sync.tasks import OPEN_TASKS, TAG
from tests.app._events_fakes import gateway_client
from tests.app.test_kitchens_control import full_for
from tests.app.test_kitchens_support import MANAGER, MEASURER, NOW, SCHEMA, ctx, of
from tests.support.migrations import database_urls, load_revision, scoped_engine

M = "member-moves"
VISIT = "2026-11-26T10:00:00+03:00"  # Thursday
LATER = "2026-11-27T10:00:00+03:00"


def open_tasks(*rows):
    """The OPEN_TASKS need as the provider hands it: id, tag, deadline, responsible."""
    return [
        {"id": i, "tag": f"kitchens.{step}", "deadline": d, "responsibleId": who}
        for i, step, d, who in rows
    ]


def with_tasks(c: RuleContext, tasks) -> RuleContext:
    return RuleContext(c.change, c.record, {OPEN_TASKS: tasks}, c.settings, SCHEMA, c.now)


def moved_lead(visit=LATER, measurer=MEASURER, fields=("UF_CRM_KT_MEASURE_AT",)):
    record = full_for(MEASUREMENT) | {"UF_CRM_KT_MEASURE_AT": visit, "UF_CRM_KT_MEASURER": measurer}
    return ctx(record, kind=FIELD_CHANGED, fields_changed=frozenset(fields))


VISIT_TASKS = open_tasks(
    (50, "confirm", VISIT, MANAGER),
    (51, "measurer", "2026-11-26T13:00:00+03:00", MEASURER),
    (52, "followup", "2026-11-25T09:00:00+03:00", MANAGER),
)


def test_a_new_visit_time_moves_the_open_confirmation_and_measurer_tasks():
    out = rules_measurement.schedule_confirmation(with_tasks(moved_lead(), VISIT_TASKS))
    updates = {u.task_id: u for u in of(out, A.UpdateTask)}
    assert set(updates) == {50, 51}  # the follow-up call is not a visit task
    assert updates[50].deadline == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # the new visit
    assert updates[51].deadline == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # its end (3 h)
    assert updates[50].responsible_id is None and updates[51].responsible_id is None
    assert not updates[50].defer and not updates[51].defer
    # the echo of our own update (tasks already there) writes nothing again
    there = open_tasks(
        (50, "confirm", LATER, MANAGER), (51, "measurer", "2026-11-27T13:00:00+03:00", MEASURER)
    )
    again = rules_measurement.schedule_confirmation(with_tasks(moved_lead(), there))
    assert of(again, A.UpdateTask) == []


def test_moved_and_handed_to_another_measurer_in_one_save():
    c = moved_lead(measurer=11, fields=("UF_CRM_KT_MEASURE_AT", "UF_CRM_KT_MEASURER"))
    out = rules_measurement.schedule_confirmation(with_tasks(c, VISIT_TASKS))
    (visit_task,) = [u for u in of(out, A.UpdateTask) if u.task_id == 51]
    assert visit_task.responsible_id == 11
    # the measurer rule sees the same save and leaves it to the reschedule rule
    assert rules_measurement.on_measurer_changed(with_tasks(c, VISIT_TASKS)) == []


def test_another_measurer_alone_gets_the_visit_task_at_the_same_time():
    c = moved_lead(visit=VISIT, measurer=11, fields=("UF_CRM_KT_MEASURER",))
    (update,) = rules_measurement.on_measurer_changed(with_tasks(c, VISIT_TASKS))
    assert update.task_id == 51 and update.responsible_id == 11 and update.deadline is None


def test_a_cancelled_visit_sets_its_tasks_aside_not_done():
    out = rules_measurement.visit_task_changes(VISIT_TASKS, defaults("kitchens"), None, None)
    assert [(u.task_id, u.defer, u.deadline) for u in out] == [(50, True, None), (51, True, None)]


def test_confirming_again_after_a_move_reuses_the_visit_task():
    record = full_for(MEASUREMENT) | {
        "UF_CRM_KT_MEASURE_AT": LATER,
        "UF_CRM_KT_MEASURER": MEASURER,
        "UF_CRM_KT_MEASURE_OK": "Y",
    }
    c = ctx(record, kind=FIELD_CHANGED, fields_changed=frozenset({"UF_CRM_KT_MEASURE_OK"}))
    out = rules_measurement.on_confirmed(with_tasks(c, VISIT_TASKS))
    assert "27.11.2026 в 10:00" in of(out, A.MessageClient)[0].text
    assert of(out, A.CreateTask) == []
    (update,) = of(out, A.UpdateTask)
    assert update.task_id == 51 and update.deadline == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    # without an open visit task it is created as before
    assert len(of(rules_measurement.on_confirmed(with_tasks(c, [])), A.CreateTask)) == 1


def _timer(record, tasks):
    detail = {"name": rules_workplan.CONFIRM_TIMER, "payload": {"visit": LATER}}
    ch = Change("m", "lead", 7, TIMER_FIRED, "timer:2", detail=detail)
    return RuleContext(ch, record, {OPEN_TASKS: tasks}, defaults("kitchens"), SCHEMA, NOW)


def test_the_confirmation_timer_moves_an_open_confirmation_instead_of_a_second_one():
    record = full_for(MEASUREMENT) | {"UF_CRM_KT_MEASURE_AT": LATER}
    (update,) = rules_measurement.confirm_task(_timer(record, VISIT_TASKS))
    assert isinstance(update, A.UpdateTask) and update.task_id == 50
    assert update.deadline == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    already = open_tasks((50, "confirm", LATER, MANAGER))
    assert rules_measurement.confirm_task(_timer(record, already)) == []


def _pause_change(date, before_stage):
    record = full_for(NEXT_CONTACT) | {"UF_CRM_KT_NEXT_CONTACT": date}
    before = record | {"stageId": before_stage, "UF_CRM_KT_NEXT_CONTACT": "2026-12-01"}
    ch = Change(
        "m",
        "lead",
        7,
        FIELD_CHANGED,
        "fields:UF_CRM_KT_NEXT_CONTACT@2",
        before=before,
        after=record,
        fields_changed=frozenset({"UF_CRM_KT_NEXT_CONTACT"}),
    )
    return ch, record


def test_a_new_contact_date_tells_the_client_and_moves_the_waiting_task():
    ch, record = _pause_change("2026-12-08", NEXT_CONTACT)
    waiting = open_tasks((60, "next_contact", "2026-12-01T09:00:00+03:00", MANAGER))
    c = RuleContext(ch, record, {OPEN_TASKS: waiting}, defaults("kitchens"), SCHEMA, NOW)
    out = rules_workplan.on_pause_moved(c)
    assert "08.12.2026" in of(out, A.MessageClient)[0].text
    assert of(out, A.CreateTask) == []
    (update,) = of(out, A.UpdateTask)
    assert update.task_id == 60 and update.deadline == datetime(2026, 12, 8, 6, 0, tzinfo=UTC)
    # no waiting task any more (closed by hand): a new one waits for the new date
    c = RuleContext(ch, record, {OPEN_TASKS: []}, defaults("kitchens"), SCHEMA, NOW)
    assert len(of(rules_workplan.on_pause_moved(c), A.CreateTask)) == 1


def test_entering_the_pause_with_a_date_is_not_also_a_move():
    ch, record = _pause_change("2026-12-08", QUALIFIED)
    c = RuleContext(ch, record, {OPEN_TASKS: []}, defaults("kitchens"), SCHEMA, NOW)
    assert rules_workplan.on_pause_moved(c) == []
    # and entering the pause again with the waiting task still open moves it, once
    entered = ctx(record, stage_from=QUALIFIED, stage_to=NEXT_CONTACT)
    waiting = open_tasks((60, "next_contact", "2026-12-08T09:00:00+03:00", MANAGER))
    assert rules_workplan.on_pause(with_tasks(entered, waiting)) == []


def test_update_task_commands():
    due = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    (cmd,) = build([A.UpdateTask(51, deadline=due, responsible_id=11)], PlainNaming())
    assert cmd.method == "tasks.task.update"
    assert cmd.params == {
        "taskId": 51,
        "fields": {"DEADLINE": "2026-11-27T07:00:00+00:00", "RESPONSIBLE_ID": 11},
    }
    (aside,) = build([A.UpdateTask(51, defer=True)], PlainNaming())
    assert aside.params == {"taskId": 51, "fields": {"STATUS": "6"}}
    with pytest.raises(ValueError, match="changes nothing"):
        build([A.UpdateTask(51)], PlainNaming())


# -- the task links in the store -------------------------------------------------------------


def _engine(url, tmp_path):
    return scoped_engine(url, tmp_path, "task_links_test")


def _task(tid, status="2", binding="L_7", tag="kitchens.measurer"):
    return {
        "id": str(tid),
        "title": "Замер",
        "status": status,
        "responsibleId": "9",
        "deadline": "2026-11-26T13:00:00+03:00",
        "ufCrmTask": [binding],
        TAG: tag,
    }


@pytest.mark.parametrize("url", database_urls())
def test_migration_matches_the_model_and_links_tasks_already_mirrored(url, tmp_path):
    engine = _engine(url, tmp_path)
    mirrored = load_revision("0101_events_mirror.py")
    with engine.begin() as conn:
        ctx_ = MigrationContext.configure(conn)
        with Operations.context(ctx_):
            mirrored.upgrade()
    with sessionmaker(engine)() as s:  # tasks mirrored before the upgrade
        s.add(mirror.MirrorRecord(member_id=M, entity="task", record_id=40, data=_task(40)))
        s.add(mirror.MirrorRecord(member_id=M, entity="task", record_id=41, data=_task(41, "5")))
        s.add(mirror.MirrorRecord(member_id=M, entity="lead", record_id=7, data={"id": 7}))
        s.commit()
    with engine.begin() as conn:
        ctx_ = MigrationContext.configure(conn)
        with Operations.context(ctx_):
            load_revision("0102_task_links.py").upgrade()
        wanted = MetaData()
        task_links.TaskLink.__table__.to_metadata(wanted)
        diffs = [
            d
            for d in compare_metadata(ctx_, wanted)
            if not (isinstance(d, tuple) and d[0] in ("remove_table", "remove_index"))
        ]
        assert diffs == []  # (the events tables and their indexes are not in ``wanted``)
        names = {i["name"] for i in engine.dialect.get_indexes(conn, "task_links")}
        assert "ix_task_links_record" in names
    with sessionmaker(engine)() as s:
        found = task_links.open_tasks(s, M, "lead", 7)
        assert [(t.id, t.tag, t.responsible_id) for t in found] == [(40, "kitchens.measurer", 9)]
    with engine.begin() as conn:
        with Operations.context(MigrationContext.configure(conn)):
            load_revision("0102_task_links.py").downgrade()
        assert "task_links" not in set(engine.dialect.get_table_names(conn))


def test_the_mirror_keeps_the_links(tmp_path):
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with sessionmaker(engine)() as s:
        mirror.put(s, M, "task", 40, _task(40))
        mirror.put(s, M, "task", 42, _task(42, tag="kitchens.confirm"))
        mirror.put(s, M, "task", 43, _task(43, binding="L_8"))  # another lead
        mirror.put(s, M, "task", 44, _task(44, binding="T80_3"))  # a smart process: no link
        assert [t.id for t in task_links.open_tasks(s, M, "lead", 7)] == [40, 42]
        mirror.put(s, M, "task", 40, _task(40, status="5"))  # completed
        mirror.put(s, M, "task", 42, _task(42, status="6"))  # deferred
        assert task_links.open_tasks(s, M, "lead", 7) == []
        mirror.put(s, M, "task", 40, _task(40, status="3"))  # reopened
        assert [t.id for t in task_links.open_tasks(s, M, "lead", 7)] == [40]
        mirror.mark_deleted(s, M, "task", 40)
        assert task_links.open_tasks(s, M, "lead", 7) == []
        assert [t.id for t in task_links.open_tasks(s, M, "lead", 8)] == [43]
        assert task_links.open_tasks(s, "other-member", "lead", 8) == []


# -- tasks.task.update against the emulator ---------------------------------------------------


@pytest.fixture
def world(emulator, redis_conn):
    from app.sync.context import PortalContext

    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    return PortalContext(
        member_id=M,
        session_factory=sessionmaker(engine),
        client=gateway_client(emulator, redis_conn, M),
        naming=PlainNaming(),
        redis=redis_conn,
        playbooks=("kitchens",),
        settings={"kitchens": defaults("kitchens")},
        now=lambda: NOW,
    )


def _apply(w, actions, cause):
    return apply_with(
        w.session_factory, w.client, w.naming, M, actions, cause=cause, rule="kitchens.t"
    )


def test_a_moved_task_is_moved_on_the_portal_and_in_the_links(world):
    w = world
    create = rules_workplan.lead_task(
        w.settings["kitchens"], "measurer", 7, {"title": "Кухня"}, MANAGER, NOW
    )
    made = _apply(w, [create], "c1").outcomes[0]
    tid = int(made.result["id"])
    due = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    report = _apply(w, [A.UpdateTask(tid, deadline=due, responsible_id=3)], "c2")
    assert report.outcomes[0].status == DONE
    got = w.client.call("tasks.task.get", {"taskId": tid, "select": ["DEADLINE", "RESPONSIBLE_ID"]})
    assert datetime.fromisoformat(got["task"]["deadline"]) == due
    assert got["task"]["responsibleId"] == "3"  # (the emulator's users are 1..5)
    with w.session_factory() as s:
        (link,) = task_links.open_tasks(s, M, "lead", 7)
        assert link.tag == "kitchens.measurer" and link.responsible_id == 3
        assert datetime.fromisoformat(link.deadline) == due
        assert mirror.get(s, M, "task", tid)[TAG] == "kitchens.measurer"  # the tag stays
    # the portal's echo of our update: nothing for the rules
    assert process_record(w, "task", tid).changes == []
    # set aside: the portal shows it deferred, it is no longer open, and nothing completed
    _apply(w, [A.UpdateTask(tid, defer=True)], "c3")
    got = w.client.call("tasks.task.get", {"taskId": tid, "select": ["STATUS"]})
    assert got["task"]["status"] == "6"
    with w.session_factory() as s:
        assert task_links.open_tasks(s, M, "lead", 7) == []
    echo = process_record(w, "task", tid)
    assert "task_completed" not in echo.changes and echo.rules == []


def test_moving_a_task_deleted_behind_our_back_fails_once_and_forgets_it(world):
    """The portal's delete event never reached us: the move fails (audited), the task leaves
    the mirror and its link, so the next rule for that step creates a new one."""
    w = world
    create = rules_workplan.lead_task(
        w.settings["kitchens"], "confirm", 7, {"title": "Кухня"}, MANAGER, NOW
    )
    tid = int(_apply(w, [create], "c1").outcomes[0].result["id"])
    w.client.call("tasks.task.delete", {"taskId": tid})
    with w.session_factory() as s:
        assert [t.id for t in task_links.open_tasks(s, M, "lead", 7)] == [tid]
    due = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    (failed,) = _apply(w, [A.UpdateTask(tid, deadline=due)], "c2").failed
    assert "not found" in failed.error.lower()
    with w.session_factory() as s:
        assert task_links.open_tasks(s, M, "lead", 7) == []
        assert mirror.get(s, M, "task", tid) is None
    # any other failure leaves the task where it was
    other = int(_apply(w, [create], "c3").outcomes[0].result["id"])
    (bad,) = _apply(w, [A.UpdateTask(other, responsible_id=999)], "c4").failed
    assert "User not found" in bad.error
    with w.session_factory() as s:
        assert [t.id for t in task_links.open_tasks(s, M, "lead", 7)] == [other]
