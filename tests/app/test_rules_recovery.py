"""Uncertain creates are found again, not dropped or doubled (``app.rules.recovery``), against
the real emulator over HTTP: a batch the portal applied and answered 500 (or whose worker died
before settling) → the retry finds each record by its tag and settles it; a batch refused
before it ran → the retry creates it. A notification is sent again with the same TAG, which
makes the portal replace the first (chats/notifications/im-notify-system-add.md).

Docs: crm/deals/crm-deal-add.md (ORIGINATOR_ID/ORIGIN_ID), crm/universal/crm-item-list.md,
tasks/tasks-task-get-fields.md (XML_ID), tasks/tasks-task-list.md (TITLE, UF_CRM_TASK filters),
tasks/checklist-item/task-checklist-item-get-list.md,
crm/timeline/comments/crm-timeline-comment-list.md (ENTITY_ID + ENTITY_TYPE filter)."""

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from app.portal.errors import ServerError
from app.rules import actions as A
from app.rules.apply import DONE, DUPLICATE, apply_with
from app.rules.naming import PlainNaming
from app.store import audit, mirror
from app.store import task_links as _task_links  # noqa: F401 - its table joins Base.metadata
from app.store.base import Base
from tests.app._events_fakes import gateway_client

M = "member-rec"


class Died(Exception):
    """The worker was killed after the batch went out, before anything was recorded."""


class DyingClient:
    """The real client, but the process 'dies' right after the portal answered a batch."""

    def __init__(self, client, drop_checklist=False):
        self.client, self.drop_checklist = client, drop_checklist

    def batch(self, cmd, halt=False):
        if self.drop_checklist:  # the portal made the task, then failed before its items
            cmd = {k: v for k, v in cmd.items() if v[0] != "task.checklistitem.add"}
        self.client.batch(cmd, halt=halt)
        raise Died


@pytest.fixture
def client(emulator, redis_conn):
    return gateway_client(emulator, redis_conn, M)


@pytest.fixture
def sessions():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    return sessionmaker(engine)


def _lead(client, sessions):
    lead = client.call("crm.item.add", {"entityTypeId": 1, "fields": {"title": "L"}})["item"]
    with sessions() as s:
        mirror.put(s, M, "lead", lead["id"], lead)
        s.commit()
    return lead["id"]


def _actions(lead_id):
    return [
        A.CreateRecord("deal", {"title": "Converted"}, ref="deal"),
        A.CreateRecord("contact", {"name": "Ivan"}, ref="c"),
        A.LinkRecords(("deal", A.Ref("deal")), ("contact", A.Ref("c")), via="contactId"),
        A.TimelineComment("deal", A.Ref("deal"), "Deal made from the lead"),
        A.CreateTask(
            "Call the client",
            responsible_id=1,
            checklist=("measure", "quote"),
            bind_to=("deal", A.Ref("deal")),
        ),
        A.TimelineComment("lead", lead_id, "Handed over"),
        A.Notify((1,), "converted"),
    ]


def _apply(sessions, client, acts, lead_id):
    return apply_with(
        sessions, client, PlainNaming(), M, acts, cause="c1", rule="t.r", record=("lead", lead_id)
    )


def _portal(client, lead_id):
    deals = client.call("crm.item.list", {"entityTypeId": 2, "select": ["*"]})["items"]
    contacts = client.call("crm.item.list", {"entityTypeId": 3, "select": ["*"]})["items"]
    tasks = client.call(
        "tasks.task.list", {"filter": {"TITLE": "Call the client"}, "select": ["ID", "UF_CRM_TASK"]}
    )["tasks"]
    checklist = []
    for task in tasks:
        rows = client.call("task.checklistitem.getlist", {"TASKID": task["id"]})
        checklist += [r["TITLE"] for r in rows]
    comments = []
    for kind, rid in [("deal", d["id"]) for d in deals] + [("lead", lead_id)]:
        flt = {"ENTITY_ID": rid, "ENTITY_TYPE": kind}
        comments += [
            c["COMMENT"] for c in client.call("crm.timeline.comment.list", {"filter": flt})
        ]
    return deals, contacts, tasks, sorted(checklist), sorted(comments)


def _assert_made_once(client, emulator, lead_id, report):
    deals, contacts, tasks, checklist, comments = _portal(client, lead_id)
    assert [d["title"] for d in deals] == ["Converted"] and len(contacts) == 1
    assert deals[0]["contactId"] == contacts[0]["id"]
    assert len(tasks) == 1 and tasks[0]["ufCrmTask"] == [f"D_{deals[0]['id']}"]
    assert checklist == ["measure", "quote"]
    assert comments == ["Deal made from the lead", "Handed over"]
    # the outcomes carry the ids of the records found, so later Refs resolve to them
    by_type = {type(o.action).__name__ + str(n): o for n, o in enumerate(report.outcomes)}
    assert by_type["CreateRecord0"].result == {"id": deals[0]["id"]}
    assert by_type["CreateRecord1"].result == {"id": contacts[0]["id"]}
    assert str(by_type["CreateTask4"].result["id"]) == tasks[0]["id"]
    assert len(emulator.admin.get("crm/notifications")) == 1


@pytest.mark.parametrize("how", ["500 after applying", "worker died after sending"])
def test_a_batch_the_portal_applied_is_found_by_the_retry_not_doubled(
    how, client, sessions, emulator
):
    lead_id = _lead(client, sessions)
    acts = _actions(lead_id)
    if how == "500 after applying":
        emulator.admin.faults(fail_next=[{"method": "batch", "status": 500, "after": True}])
        with pytest.raises(ServerError):
            _apply(sessions, client, acts, lead_id)
    else:
        with pytest.raises(Died):
            _apply(sessions, DyingClient(client), acts, lead_id)

    report = _apply(sessions, client, acts, lead_id)
    assert [o.status for o in report.outcomes] == [DONE] * 7
    _assert_made_once(client, emulator, lead_id, report)
    with sessions() as s:  # the found deal is in the mirror: its echo diffs to nothing
        assert mirror.get(s, M, "deal", report.outcomes[0].result["id"])["title"] == "Converted"
    replay = _apply(sessions, client, acts, lead_id)
    assert [o.status for o in replay.outcomes] == [DUPLICATE] * 7
    _assert_made_once(client, emulator, lead_id, report)


def test_a_batch_refused_before_it_ran_is_created_by_the_retry(client, sessions, emulator):
    """A 500 the portal answered before running anything looks the same to the app as one
    after: the retry looks, finds nothing, and creates everything once."""
    lead_id = _lead(client, sessions)
    acts = _actions(lead_id)
    emulator.admin.faults(fail_next=[{"method": "batch", "status": 500}])
    with pytest.raises(ServerError):
        _apply(sessions, client, acts, lead_id)
    assert _portal(client, lead_id) == ([], [], [], [], [])

    report = _apply(sessions, client, acts, lead_id)
    assert [o.status for o in report.outcomes] == [DONE] * 7
    deals, contacts, tasks, checklist, comments = _portal(client, lead_id)
    assert len(deals) == len(contacts) == len(tasks) == 1
    assert checklist == ["measure", "quote"]
    assert comments == ["Deal made from the lead", "Handed over"]
    assert len(emulator.admin.get("crm/notifications")) == 1


def test_a_task_made_without_its_checklist_gets_only_the_missing_items(client, sessions, emulator):
    lead_id = _lead(client, sessions)
    task = A.CreateTask(
        "Call the client",
        responsible_id=1,
        checklist=("measure", "quote"),
        bind_to=("lead", lead_id),
    )
    with pytest.raises(Died):
        _apply(sessions, DyingClient(client, drop_checklist=True), [task], lead_id)
    client.call(  # one item did get there
        "task.checklistitem.add",
        {"TASKID": _portal(client, lead_id)[2][0]["id"], "FIELDS": {"TITLE": "measure"}},
    )
    report = _apply(sessions, client, [task], lead_id)
    assert [o.status for o in report.outcomes] == [DONE]
    _, _, tasks, checklist, _ = _portal(client, lead_id)
    assert len(tasks) == 1 and checklist == ["measure", "quote"]


def test_a_comment_is_matched_by_text_and_time_one_comment_per_action(client, sessions, emulator):
    """Two identical comments of two causes, both pending after a death: each is matched to
    one portal comment, none is made again; an old identical comment does not count."""
    lead_id = _lead(client, sessions)
    emulator.admin.post("clock", {"offset": -3600})
    client.call(  # written an hour before (another rule, earlier)
        "crm.timeline.comment.add",
        {"fields": {"ENTITY_ID": lead_id, "ENTITY_TYPE": "lead", "COMMENT": "Same"}},
    )
    emulator.admin.post("clock", {"offset": 0})
    acts = [A.TimelineComment("lead", lead_id, "Same"), A.TimelineComment("lead", lead_id, "Same")]
    with pytest.raises(Died):
        _apply(sessions, DyingClient(client), acts[:1], lead_id)
    report = _apply(sessions, client, acts, lead_id)
    assert [o.status for o in report.outcomes] == [DONE, DONE]
    flt = {"ENTITY_ID": lead_id, "ENTITY_TYPE": "lead"}
    assert len(client.call("crm.timeline.comment.list", {"filter": flt})) == 3
    with sessions() as s:
        claims = s.scalars(select(audit.ActionClaim)).all()
    assert {c.status for c in claims} == {"done"}
