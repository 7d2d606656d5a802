"""tasks.task.* and task.checklistitem.*: UPPER input, camelCase string output, events."""

from __future__ import annotations

import json

import pytest

from b24emu.crm import CrmStore
from b24emu.methods import load_all
from b24emu.registry import Auth, Call, RestError, lookup
from b24emu.state import Portal
from tests.shared_docs import SHARED_PAYLOADS

PAYLOADS = SHARED_PAYLOADS


@pytest.fixture
def portal():
    load_all()
    p = Portal(member_id="m" * 32, domain="example.test")
    p.users = {
        uid: {"ID": str(uid), "NAME": f"U{uid}", "LAST_NAME": "", "ACTIVE": True} for uid in (1, 5)
    }
    CrmStore(p)
    p.events = []
    p.emit = lambda name, data, user: p.events.append((name, data, user))
    return p


def call(portal, name, params, user_id=1):
    auth = Auth(kind="oauth", user_id=user_id, scopes=frozenset({"task"}), client_id="app")
    return lookup(name).fn(Call(portal, auth, name, params))


def error_of(portal, name, params):
    with pytest.raises(RestError) as exc:
        call(portal, name, params)
    return exc.value


def payload(name):
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def test_add_returns_camel_case_strings_and_fires_ontaskadd(portal):
    task = call(portal, "tasks.task.add", payload("tasks_task_add_request.json"))["task"]
    documented = payload("tasks_task_add_response_excerpt.json")["result"]["task"]
    assert set(documented) <= set(task)
    assert (
        task["title"],
        task["responsibleId"],
        task["createdBy"],
        task["priority"],
        task["status"],
    ) == ("Prepare offer", "5", "1", "2", "2")
    assert task["deadline"] == "2025-12-31T23:59:59+03:00" and task["groupId"] == "0"
    assert (
        task["responsible"]["id"] == "5"
        and task["responsible"]["link"] == "/company/personal/user/5/"
    )
    assert "ufCrmTask" not in task  # only when selected
    assert portal.events == [
        (
            "ONTASKADD",
            {
                "FIELDS_BEFORE": "undefined",
                "FIELDS_AFTER": {"ID": task["id"]},
                "IS_ACCESSIBLE_BEFORE": "N",
                "IS_ACCESSIBLE_AFTER": "undefined",
            },
            1,
        )
    ]
    got = call(portal, "tasks.task.get", {"taskId": task["id"], "select": ["ID", "UF_CRM_TASK"]})[
        "task"
    ]
    assert got["ufCrmTask"] == ["D_342", "C_4", "T406_1"]


def test_update_status_and_list_by_crm_binding(portal):
    first = call(
        portal,
        "tasks.task.add",
        {"fields": {"TITLE": "A", "RESPONSIBLE_ID": 5, "UF_CRM_TASK": ["D_1"]}},
    )["task"]
    call(
        portal,
        "tasks.task.add",
        {"fields": {"TITLE": "B", "RESPONSIBLE_ID": 1, "UF_CRM_TASK": ["D_2"]}},
    )
    updated = call(
        portal, "tasks.task.update", {"taskId": first["id"], "fields": {"STATUS": 5}}, user_id=5
    )["task"]
    assert (
        updated["status"] == "5"
        and updated["changedBy"] == "5"
        and updated["closedDate"] is not None
    )
    name, data, user = portal.events[-1]
    assert (name, data["FIELDS_AFTER"], user) == ("ONTASKUPDATE", {"ID": first["id"]}, 5)
    page = call(
        portal,
        "tasks.task.list",
        {"filter": {"UF_CRM_TASK": "D_1"}, "select": ["ID", "TITLE", "STATUS"]},
    )
    assert [t["title"] for t in page.result["tasks"]] == ["A"] and page.total == 1
    assert [
        t["title"]
        for t in call(portal, "tasks.task.list", {"filter": {"RESPONSIBLE_ID": 1}}).result["tasks"]
    ] == ["B"]


def test_validation(portal):
    assert (
        error_of(portal, "tasks.task.add", {"fields": {"RESPONSIBLE_ID": 5}}).code == "ERROR_CORE"
    )
    assert (
        error_of(portal, "tasks.task.add", {"fields": {"TITLE": "x", "RESPONSIBLE_ID": 77}}).code
        == "ERROR_CORE"
    )
    assert error_of(portal, "tasks.task.get", {"taskId": 404}).code == "ERROR_CORE"
    task = call(portal, "tasks.task.add", {"fields": {"TITLE": "x"}})["task"]
    assert (
        error_of(portal, "tasks.task.update", {"taskId": task["id"], "fields": {"STATUS": 42}}).code
        == "ERROR_CORE"
    )
    assert call(portal, "tasks.task.get", {"taskId": task["id"]})["task"]["status"] == "2"


def test_checklist_named_and_positional(portal):
    task = call(portal, "tasks.task.add", {"fields": {"TITLE": "x"}})["task"]
    request = payload("task_checklistitem_add_request.json")
    request["TASKID"] = task["id"]
    first = call(portal, "task.checklistitem.add", request)
    second = call(
        portal, "task.checklistitem.add", {"0": task["id"], "1": {"TITLE": "Send", "SORT_INDEX": 5}}
    )
    assert isinstance(first, int) and second == first + 1
    items = call(portal, "task.checklistitem.getlist", {"TASKID": task["id"]})
    assert [(i["TITLE"], i["IS_COMPLETE"]) for i in items] == [
        ("Send", "N"),
        ("Collect requirements", "N"),
    ]
    assert (
        call(portal, "task.checklistitem.complete", {"TASKID": task["id"], "ITEMID": first}) is True
    )
    listed = call(portal, "tasks.task.get", {"taskId": task["id"]})["task"]["checklist"]
    assert {(c["title"], c["isComplete"]) for c in listed} == {
        ("Collect requirements", "Y"),
        ("Send", "N"),
    }
    assert (
        error_of(portal, "task.checklistitem.add", {"TASKID": 999, "FIELDS": {"TITLE": "x"}}).code
        == "ERROR_CORE"
    )


def test_delete_fires_ontaskdelete(portal):
    task = call(portal, "tasks.task.add", {"fields": {"TITLE": "x"}})["task"]
    assert call(portal, "tasks.task.delete", {"taskId": task["id"]}) == {"task": True}
    name, data, _ = portal.events[-1]
    assert (name, data["FIELDS_BEFORE"], data["FIELDS_AFTER"]) == (
        "ONTASKDELETE",
        {"ID": task["id"]},
        "undefined",
    )
    assert error_of(portal, "tasks.task.get", {"taskId": task["id"]}).code == "ERROR_CORE"


def test_renew_brings_a_completed_task_back_and_refuses_an_open_one(portal):
    """tasks.task.renew "renews a task after its completion"
    (api-reference/tasks/tasks-task-renew.md): "not executed" again — pending, status 2 —
    and only from Completed (api-reference/tasks/deprecated/task-item/task-item-renew.md)."""
    task = call(portal, "tasks.task.add", {"fields": {"TITLE": "КП", "RESPONSIBLE_ID": 5}})["task"]
    refused = error_of(portal, "tasks.task.renew", {"taskId": task["id"]})
    assert refused.code == "ERROR_CORE" and "ACTION_FAILED" in str(refused.description)
    call(portal, "tasks.task.update", {"taskId": task["id"], "fields": {"STATUS": 5}})
    renewed = call(portal, "tasks.task.renew", {"taskId": task["id"]}, user_id=5)["task"]
    assert (renewed["id"], renewed["status"], renewed["closedDate"]) == (task["id"], "2", None)
    name, data, user = portal.events[-1]
    assert (name, data["FIELDS_AFTER"], user) == ("ONTASKUPDATE", {"ID": task["id"]}, 5)
    assert error_of(portal, "tasks.task.renew", {"taskId": 404}).code == "ERROR_CORE"
