"""#21: a robot of one playbook called on a record another playbook owns answers the robot
with an error and writes nothing (``app.robots.runtime.foreign_record``).

The error goes back the documented way, ``bizproc.event.send`` with the return values and
a log message (b24restdocs api-reference/bizproc/bizproc-robot/bizproc-event-send.md), so
the automation log says why instead of timing out."""

import pytest

from app.robots import calc_area
from app.robots.runtime import robot_playbooks
from tests.app._robots_world import build_world


@pytest.fixture
def world(emulator, make_services, redis_url):
    w = build_world(emulator, make_services, playbooks=("metal", "kitchens"))
    w.register(calc_area.SPEC)
    return w


def _lead(world, source):
    fields = {"title": "L", "sourceId": source, "opportunity": 7}
    return world.rest("crm.item.add", {"entityTypeId": 1, "fields": fields})["item"]["id"]


def _call(world, lead_id):
    run = world.mint_call("calc_area", 1, lead_id, {"length": "1", "width": "1"})
    body = world.body(
        "lead",
        "calc_area",
        document=["crm", "CCrmDocumentLead", f"LEAD_{lead_id}"],
        event_token=run["event_token"],
        properties={"length": "24", "width": "12,5", "area_field": "opportunity"},
    )
    assert world.post("calc_area", body).status_code == 200
    world.work()
    return next(r for r in world.runs("calc_area") if r["event_token"] == run["event_token"])


def test_calc_area_is_metals_robot():
    assert robot_playbooks("calc_area") == {"metal"}
    assert robot_playbooks("abc_score") == {"kitchens"}
    assert robot_playbooks("no_such_robot") == frozenset()


def test_a_metal_robot_on_a_kitchens_lead_answers_an_error_and_writes_nothing(world):
    kitchens_lead = _lead(world, "CALL")  # kitchens claims phone leads by default
    run = _call(world, kitchens_lead)
    assert run["status"] == "completed"  # answered, not left to time out
    error = run["return_values"]["error"]
    assert "kitchens" in error and "calc_area" in error and "ничего не изменено" in error
    assert "Ошибка" in run["log"][-1]
    assert world.item(1, kitchens_lead)["opportunity"] == 7


def test_the_same_robot_on_its_own_playbooks_lead_works(world):
    metal_lead = _lead(world, "WEBFORM")  # metal claims web-form leads
    run = _call(world, metal_lead)
    assert run["return_values"]["error"] == ""
    assert world.item(1, metal_lead)["opportunity"] == 300.0
