"""CRM and task changes made over REST arrive at the app as the documented event POSTs."""

import pytest

from tests.emu._receiver import documented_keys


@pytest.fixture
def crm_app(emulator, installed_app):
    if emulator.portal.crm is None:
        pytest.skip("CRM store not present")
    return installed_app


def test_deal_pipeline_move_fires_move_to_category(crm_app, receiver):
    rest = crm_app["rest"]
    rest.call("event.bind", {"event": "ONCRMDEALMOVETOCATEGORY", "handler": receiver.url("move")})
    category = rest.call("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Монтаж"}})[
        "category"
    ]
    deal = rest.call("crm.item.add", {"entityTypeId": 2, "fields": {"title": "Окна"}})["item"]
    rest.call(
        "crm.item.update",
        {
            "entityTypeId": 2,
            "id": deal["id"],
            "fields": {"categoryId": category["id"], "stageId": f"C{category['id']}:NEW"},
        },
    )
    post = receiver.wait_for("move")[0]
    assert post.keys == documented_keys("event_ONCRMDEALMOVETOCATEGORY.decoded.txt")
    assert post.form["data"]["FIELDS"] == {
        "ID": str(deal["id"]),
        "CATEGORY_ID": str(category["id"]),
        "STAGE_ID": f"C{category['id']}:NEW",
    }


def test_task_add_fires_ontaskadd(crm_app, receiver):
    rest = crm_app["rest"]
    rest.call("event.bind", {"event": "ONTASKADD", "handler": receiver.url("task")})
    task = rest.call("tasks.task.add", {"fields": {"TITLE": "Замер", "RESPONSIBLE_ID": 5}})["task"]
    post = receiver.wait_for("task")[0]
    assert post.keys == documented_keys("event_ONTASKADD.decoded.txt")
    assert post.form["data"]["FIELDS_AFTER"] == {"ID": str(task["id"])}


def test_completing_a_task_over_rest_fires_ontaskupdate_and_get_list_show_it(crm_app, receiver):
    rest = crm_app["rest"]
    rest.call("event.bind", {"event": "ONTASKUPDATE", "handler": receiver.url("upd")})
    fields = {"TITLE": "Замер", "RESPONSIBLE_ID": 5, "UF_CRM_TASK": ["L_17"]}
    task = rest.call("tasks.task.add", {"fields": fields})["task"]
    rest.call("tasks.task.update", {"taskId": task["id"], "fields": {"STATUS": 5}})
    post = receiver.wait_for("upd")[0]
    assert post.form["event"] == "ONTASKUPDATE"
    data = post.form["data"]
    assert data["FIELDS_BEFORE"] == {"ID": str(task["id"])}
    assert data["FIELDS_AFTER"] == {"ID": str(task["id"])}
    select = ["ID", "STATUS", "CLOSED_DATE", "UF_CRM_TASK"]
    got = rest.call("tasks.task.get", {"taskId": task["id"], "select": select})["task"]
    assert got["status"] == "5" and got["closedDate"] and got["ufCrmTask"] == ["L_17"]
    listed = rest.call(
        "tasks.task.list", {"filter": {"UF_CRM_TASK": "L_17", "STATUS": 5}, "select": select}
    )["tasks"]
    assert [t["id"] for t in listed] == [str(task["id"])]


def test_robot_runs_when_lead_created_in_stage_and_deal_no_wait_payload(
    emulator, crm_app, receiver
):
    rest = crm_app["rest"]
    rest.call(
        "bizproc.robot.add",
        {
            "CODE": "lead_score_robot",
            "HANDLER": receiver.url("robot"),
            "NAME": "R",
            "USE_SUBSCRIPTION": "N",
            "PROPERTIES": {
                "comment": {"Name": "C"},
                "amount": {"Name": "A", "Type": "double"},
                "notify": {"Name": "N", "Type": "bool"},
                "responsible": {"Name": "R", "Type": "user"},
            },
        },
    )
    emulator.admin.post(
        "robots/place",
        {
            "entity_type_id": 2,
            "stage_id": "NEW",
            "code": "lead_score_robot",
            "properties": {"comment": "x", "amount": 333, "notify": "Y", "responsible": "user_1"},
        },
    )
    deal = rest.call(
        "crm.item.add", {"entityTypeId": 2, "fields": {"title": "Окна", "stageId": "NEW"}}
    )["item"]
    post = receiver.wait_for("robot")[0]
    assert post.keys == documented_keys("robot_handler_post_deal_no_wait.decoded.txt")
    assert post.form["document_id"][2] == f"DEAL_{deal['id']}"
