"""calc_area through the HTTP handler and the job, answered on the emulator every time."""

import pytest

from app.robots import calc_area
from app.robots.runtime import VERIFY_LOG
from tests.app._robots_world import build_world


@pytest.fixture
def world(emulator, make_services, redis_url):
    w = build_world(emulator, make_services)
    w.register(calc_area.SPEC)
    return w


PLACED = {"length": "1", "width": "1"}  # what the designer stored; the POSTs carry the values


def _lead(world, **fields):
    return world.rest("crm.item.add", {"entityTypeId": 1, "fields": {"title": "L", **fields}})[
        "item"
    ]["id"]


def _call(world, lead_id, properties, name="lead"):
    run = world.mint_call("calc_area", 1, lead_id, PLACED)
    body = world.body(
        name,
        "calc_area",
        document=["crm", "CCrmDocumentLead", f"LEAD_{lead_id}"],
        event_token=run["event_token"],
        properties=properties,
    )
    resp = world.post("calc_area", body)
    assert resp.status_code == 200, resp.text
    world.work()
    return next(r for r in world.runs("calc_area") if r["event_token"] == run["event_token"])


@pytest.mark.parametrize(
    ("length", "width", "area"),
    [("24", "12,5", 300.0), ("12.5 м", "4", 50.0), ("10.25", "2", 20.5)],
)
def test_area_is_answered_and_written_to_the_mapped_field(world, length, width, area):
    lead_id = _lead(world)
    run = _call(
        world,
        lead_id,
        {"length": length, "width": width, "area_field": "opportunity"},
    )
    assert run["status"] == "completed"
    assert run["return_values"]["area"] == area
    assert run["return_values"]["error"] == ""
    assert "Площадь" in run["log"][-1]
    assert world.item(1, lead_id)["opportunity"] == area


def test_tonnage_needs_a_density(world):
    lead_id = _lead(world)
    run = _call(world, lead_id, {"length": "20", "width": "10", "density": "0,035"})
    assert run["return_values"]["area"] == 200.0
    assert run["return_values"]["tonnage"] == 7.0
    assert "Тоннаж" in run["log"][-1]


@pytest.mark.parametrize(
    ("length", "width", "fragment"),
    [
        ("", "12", "Длина, м"),
        ("двенадцать", "12", "не число"),
        ("0", "12", "больше нуля"),
        ("12", "-3", "отрицательное"),
    ],
)
def test_bad_input_is_a_clear_error_answer_and_nothing_is_written(world, length, width, fragment):
    lead_id = _lead(world, opportunity=7)
    run = _call(world, lead_id, {"length": length, "width": width, "area_field": "opportunity"})
    assert run["status"] == "completed"
    assert fragment in run["return_values"]["error"]
    assert run["log"][-1].startswith("Ошибка:") and fragment in run["log"][-1]
    assert "area" not in run["return_values"]
    assert world.item(1, lead_id)["opportunity"] == 7


def test_replaying_the_post_three_times_changes_the_record_once(world):
    lead_id = _lead(world)
    run = world.mint_call("calc_area", 1, lead_id, PLACED)
    body = world.body(
        "lead",
        "calc_area",
        document=["crm", "CCrmDocumentLead", f"LEAD_{lead_id}"],
        event_token=run["event_token"],
        properties={"length": "3", "width": "4", "area_field": "opportunity"},
    )
    for _ in range(3):
        assert world.post("calc_area", body).status_code == 200
    assert world.queued() == 1  # replays while queued are not enqueued again
    world.work()
    updated = world.item(1, lead_id)["updatedTime"]
    for _ in range(3):  # replays after the answer: enqueued, but the job does nothing
        assert world.post("calc_area", body).status_code == 200
        world.work()
    assert world.item(1, lead_id)["updatedTime"] == updated
    runs = [r for r in world.runs("calc_area") if r["event_token"] == run["event_token"]]
    assert runs[0]["status"] == "completed" and runs[0]["log"] == [VERIFY_LOG, runs[0]["log"][-1]]
    calls = world.emu.admin.get("requests")["calls"]
    assert calls.get("crm.item.update") == 1
    assert calls.get("bizproc.event.send") == 1


def _forged(world, lead_id, field, use_subscription="Y"):
    """The attacker knows the application token (every frame form carries it) and invents
    the event token; the properties name the field to overwrite."""
    body = world.body(
        "lead",
        "calc_area",
        document=["crm", "CCrmDocumentLead", f"LEAD_{lead_id}"],
        event_token="664fa13bbbb410.99176768|A40364_79843_85254_57332|forged.0",
        properties={"length": "7", "width": "7", "area_field": field},
        use_subscription=use_subscription,
    )
    assert world.post("calc_area", body).status_code == 200
    world.work()


@pytest.mark.parametrize("field", ["title", "opportunity"])
def test_forged_robot_call_writes_nothing(world, field):
    """Issue #20 way in 6: a forged call with an invented event_token made calc_area write
    ``49.0`` into the lead's title before the portal refused the answer. The token is now
    proved with ``bizproc.activity.log`` (which takes the event token without closing the
    activity; api-reference/bizproc/bizproc-activity/bizproc-activity-log.md) before any
    write: the portal refuses it, nothing is written and nothing is answered."""
    lead_id = _lead(world, opportunity=5)
    _forged(world, lead_id, field)
    item = world.item(1, lead_id)
    assert item["title"] == "L" and item["opportunity"] == 5
    calls = world.emu.admin.get("requests")["calls"]
    assert calls.get("bizproc.event.send", 0) == 0
    assert calls.get("crm.item.update", 0) == 0 and calls.get("batch", 0) == 0


def test_unprovable_call_writes_only_declared_fields(world):
    """use_subscription=N: no documented method takes the token (activity.log needs
    USE_SUBSCRIPTION=Y), so the call cannot be proved — it may still write only the fields
    the robot declares (calc_area: numbers), never the title. The gap is in SECURITY.md."""
    lead_id = _lead(world)
    _forged(world, lead_id, "title", use_subscription="N")
    assert world.item(1, lead_id)["title"] == "L"
