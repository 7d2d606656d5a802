"""Robots: registration rules, runs on stage entry with the documented POST, event.send."""

import json
from pathlib import Path

import pytest
import requests

from tests.emu._receiver import PAYLOADS, documented_keys

ROBOT = json.loads(Path(PAYLOADS / "bizproc_robot_add_request.json").read_text())


def _robot(receiver, **overrides):
    spec = {k: v for k, v in ROBOT.items() if k != "auth"}
    spec["HANDLER"] = receiver.url("robot")
    spec.update(overrides)
    return spec


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"CODE": ""}, "Empty activity code!"),
        ({"CODE": "bad code!"}, "Wrong activity code!"),
        ({"NAME": ""}, "Empty activity NAME!"),
        ({"PROPERTIES": "x"}, "Wrong properties array!"),
        ({"PROPERTIES": {"1bad": {"Name": "x"}}}, "Wrong property key (1bad)!"),
        ({"PROPERTIES": {"good": {"Type": "int"}}}, "Empty property NAME (good)!"),
        ({"FILTER": "b24"}, "Wrong activity FILTER!"),
        ({"DOCUMENT_TYPE": ["crm"]}, "Wrong activity DOCUMENT_TYPE!"),
    ],
)
def test_validation_messages(installed_app, receiver, change, message):
    resp = installed_app["rest"].raw("bizproc.robot.add", _robot(receiver, **change))
    assert resp.status_code == 400
    assert resp.json() == {
        "error": "ERROR_ACTIVITY_VALIDATION_FAILURE",
        "error_description": message,
    }


def test_add_list_update_delete_and_duplicates(installed_app, receiver):
    rest = installed_app["rest"]
    lower = {
        k.lower(): v for k, v in _robot(receiver).items()
    }  # top-level keys are case-insensitive
    assert rest.call("bizproc.robot.add", lower) is True
    dup = rest.raw("bizproc.robot.add", _robot(receiver))
    assert dup.json() == {
        "error": "ERROR_ACTIVITY_ALREADY_INSTALLED",
        "error_description": "Activity or Robot already installed!",
    }
    rest.call("bizproc.activity.add", _robot(receiver, CODE="act1"))
    assert rest.call("bizproc.robot.list") == ["lead_score_robot"]
    assert rest.call("bizproc.activity.list") == ["act1"]
    assert (
        rest.raw("bizproc.robot.update", {"CODE": "lead_score_robot", "FIELDS": {}}).json()[
            "error_description"
        ]
        == "No fields to update"
    )
    assert (
        rest.call(
            "bizproc.robot.update",
            {"CODE": "lead_score_robot", "FIELDS": {"USE_SUBSCRIPTION": "N"}},
        )
        is True
    )
    missing = rest.raw("bizproc.robot.delete", {"CODE": "nope"})
    assert missing.json() == {
        "error": "ERROR_ACTIVITY_NOT_FOUND",
        "error_description": "Activity or Robot not found!",
    }
    assert rest.call("bizproc.robot.delete", {"CODE": "lead_score_robot"}) is True
    assert rest.call("bizproc.robot.list") == []


def test_webhook_cannot_add_robots(emulator, receiver):
    resp = requests.post(emulator.webhook_url() + "bizproc.robot.add", json=_robot(receiver))
    assert (resp.status_code, resp.json()["error"]) == (403, "WRONG_AUTH_TYPE")


def _place_and_fire(emulator, etid, item_id, stage="NEW", **extra):
    emulator.admin.post(
        "robots/place",
        {
            "entity_type_id": etid,
            "stage_id": stage,
            "code": "lead_score_robot",
            "properties": {"amount": 333, "comment": "default string value"},
            **extra,
        },
    )
    return emulator.admin.post(
        "robots/stage_entered",
        {"entity_type_id": etid, "id": item_id, "stage_id": stage, "user_id": 1},
    )


@pytest.mark.parametrize(
    ("etid", "item_id", "doc", "sample"),
    [
        (1, 123, ("CCrmDocumentLead", "LEAD_123", "LEAD"), "robot_handler_post_lead.decoded.txt"),
        (
            147,
            12,
            (
                "Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic",
                "DYNAMIC_147_12",
                "DYNAMIC_147",
            ),
            "robot_handler_post_smart_process.decoded.txt",
        ),
    ],
)
def test_robot_post_matches_documented_payload(
    emulator, installed_app, receiver, etid, item_id, doc, sample
):
    installed_app["rest"].call("bizproc.robot.add", _robot(receiver, FILTER=None))
    runs = _place_and_fire(emulator, etid, item_id, timeout=660)
    post = receiver.wait_for("robot")[0]
    form = post.form
    # the sample has 4 properties; ours has 5 (mode), everything else in the same order
    assert [k for k in post.keys if k != "properties[mode]"] == documented_keys(sample)
    assert form["document_id"] == ["crm", doc[0], doc[1]]
    assert form["document_type"] == ["crm", doc[0], doc[2]]
    assert form["properties"] == {
        "comment": "default string value",
        "amount": "333",
        "notify": "Y",
        "responsible": "user_1",
        "mode": "fast",
    }
    assert (form["use_subscription"], form["timeout_duration"]) == ("Y", "660")
    assert form["event_token"] == runs[0]["event_token"] and form["event_token"].startswith(
        form["workflow_id"] + "|"
    )
    assert form["auth"]["application_token"] == installed_app["application_token"]


def test_event_send_closes_the_run_with_return_values(emulator, installed_app, receiver):
    rest = installed_app["rest"]
    rest.call("bizproc.robot.add", _robot(receiver))
    _place_and_fire(emulator, 1, 5)
    form = receiver.wait_for("robot")[0].form
    robot_rest = requests.post  # the app answers with the token it received in the robot POST
    resp = robot_rest(
        emulator.rest_url + "bizproc.activity.log",
        json={
            "auth": form["auth"]["access_token"],
            "event_token": form["event_token"],
            "log_message": "thinking",
        },
    )
    assert resp.json()["result"] is True
    resp = robot_rest(
        emulator.rest_url + "bizproc.event.send",
        json={
            "auth": form["auth"]["access_token"],
            "event_token": form["event_token"],
            "return_values": {"SCORE": "87", "verdict": "hot", "ignored": 1},
            "log_message": "done",
        },
    )
    assert resp.json()["result"] is True
    run = emulator.admin.get("robot_runs")[0]
    assert run["status"] == "completed"
    assert run["return_values"] == {"score": 87, "verdict": "hot"}
    assert run["log"] == ["thinking", "done"]
    again = rest.raw(
        "bizproc.event.send", {"event_token": form["event_token"], "return_values": {}}
    )
    assert again.status_code == 400


def test_forged_token_is_access_denied(installed_app):
    resp = installed_app["rest"].raw(
        "bizproc.event.send", {"event_token": "forged|A1|x.y", "return_values": {}}
    )
    assert (resp.status_code, resp.json()) == (
        403,
        {"error": "ACCESS_DENIED", "error_description": "Access denied!"},
    )
    empty_log = installed_app["rest"].raw(
        "bizproc.activity.log", {"event_token": "forged", "log_message": ""}
    )
    assert empty_log.status_code == 403


def test_timeout_ends_the_run_and_later_send_fails(emulator, installed_app, receiver):
    rest = installed_app["rest"]
    rest.call("bizproc.robot.add", _robot(receiver))
    _place_and_fire(emulator, 2, 5, timeout=60)
    token = receiver.wait_for("robot")[0].form["event_token"]
    emulator.admin.post("clock", {"advance": 61})
    run = emulator.admin.get("robot_runs")[0]
    assert (run["status"], run["timed_out"]) == ("timeout", True)
    resp = rest.raw("bizproc.event.send", {"event_token": token, "return_values": {"score": 1}})
    assert resp.status_code == 400
    assert emulator.admin.get("robot_runs")[0]["return_values"] == {}


def test_no_wait_robot_finishes_at_once(emulator, installed_app, receiver):
    installed_app["rest"].call("bizproc.robot.add", _robot(receiver, USE_SUBSCRIPTION="N"))
    _place_and_fire(emulator, 2, 5, timeout=600)
    form = receiver.wait_for("robot")[0].form
    assert (form["use_subscription"], form["timeout_duration"]) == ("N", "0")
    assert emulator.admin.get("robot_runs")[0]["status"] == "completed"


def test_crm_stage_move_runs_placed_robot(emulator, installed_app, receiver):
    if emulator.portal.crm is None:
        pytest.skip("CRM store not present")
    rest = installed_app["rest"]
    rest.call("bizproc.robot.add", _robot(receiver))
    emulator.admin.post(
        "robots/place",
        {
            "entity_type_id": 2,
            "category_id": 0,
            "stage_id": "PREPARATION",
            "code": "lead_score_robot",
            "properties": {"amount": 5},
        },
    )
    deal = emulator.admin.post(
        "crm/items", {"entity_type_id": 2, "fields": {"title": "Окна"}, "user_id": 3}
    )
    assert receiver.at("robot") == []
    emulator.admin.post(
        "crm/move", {"entity_type_id": 2, "id": deal["id"], "stage_id": "PREPARATION", "user_id": 3}
    )
    form = receiver.wait_for("robot")[0].form
    assert form["document_id"][2] == f"DEAL_{deal['id']}"
    assert form["auth"]["user_id"] == "1"  # AUTH_USER_ID of the robot


def test_placement_respects_filter_and_required_properties(emulator, installed_app, receiver):
    installed_app["rest"].call(
        "bizproc.robot.add", _robot(receiver)
    )  # FILTER includes lead and deal only
    resp = requests.post(
        emulator.base_url + "/_emu/robots/place",
        json={
            "entity_type_id": 3,
            "stage_id": "NEW",
            "code": "lead_score_robot",
            "properties": {"amount": 1},
        },
    )
    assert resp.status_code == 400 and "FILTER" in resp.json()["detail"]
    resp = requests.post(
        emulator.base_url + "/_emu/robots/place",
        json={"entity_type_id": 1, "stage_id": "NEW", "code": "lead_score_robot"},
    )
    assert resp.status_code == 400 and "amount" in resp.json()["detail"]  # Required, no default
    assert emulator.portal.core.robot_placements == []


def test_activity_log_is_for_admins_and_issued_tokens_only(emulator):
    """api-reference/bizproc/bizproc-activity/bizproc-activity-log.md: "who can execute the
    method: administrator"; the app proves a robot call's event_token with it, so a token
    the portal never issued must be refused."""
    import requests

    app = emulator.register_app()
    emulator.admin.post(f"apps/{app['client_id']}/install", {})
    admin = emulator.admin.post(f"apps/{app['client_id']}/tokens", {"user_id": 1})
    manager = emulator.admin.post(f"apps/{app['client_id']}/tokens", {"user_id": 3})

    def log(token, event_token):
        body = {"auth": token, "event_token": event_token, "log_message": "x"}
        return requests.post(f"{emulator.rest_url}bizproc.activity.log", json=body, timeout=10)

    forged = log(admin["access_token"], "wf.1|A1|forged.sig")
    assert forged.status_code == 403 and forged.json()["error"] == "ACCESS_DENIED"
    assert log(manager["access_token"], "wf.1|A1|forged.sig").status_code == 403
