"""handoff_to_store on a portal the real installer set up (furniture), through the HTTP
handler and the job, answered on the emulator."""

import pytest

from app.store.timers import Timer
from app.sync.context import portal_context
from tests.app._robots_world import build_world, install, run_robot, set_setting

ADMIN = 5


@pytest.fixture
def world(emulator, make_services, redis_url):
    w = build_world(emulator, make_services, playbooks=("furniture",))
    install(w, ("furniture",))
    set_setting(w, "furniture", "city_admins", {"Санкт-Петербург": ADMIN})
    w.naming = portal_context(w.services, w.member_id).naming
    return w


def _lead(w, **fields):
    named = {w.naming.field_name("lead", k) if k.startswith("UF_") else k: v
             for k, v in fields.items()}  # fmt: skip
    return w.rest("crm.item.add", {"entityTypeId": 1, "fields": named})["item"]["id"]


def _run(w, item_id, etid=1):
    return run_robot(w, "handoff_to_store", etid, item_id)


def test_the_lead_goes_to_the_city_administrator_and_escalation_starts(world):
    w = world
    assert "handoff_to_store" in w.rest("bizproc.robot.list")
    lead = _lead(w, title="Кровать", assignedById=1, UF_CRM_FR_CITY=" санкт-петербург ")
    run = _run(w, lead)
    assert run["return_values"] == {"administrator": f"user_{ADMIN}", "error": ""}
    assert int(w.item(1, lead)["assignedById"]) == ADMIN
    with w.services.session() as s:
        timers = s.query(Timer).filter_by(entity="lead", record_id=lead, state="pending").all()
    assert [t.kind for t in timers] == ["furniture.store_escalation"]
    assert timers[0].payload.get("responsible") == ADMIN


def test_no_city_or_an_unknown_city_is_an_error_answer_and_nothing_changes(world):
    w = world
    nowhere = _lead(w, title="Без города", assignedById=1)
    assert "Город клиента" in _run(w, nowhere)["return_values"]["error"]
    far = _lead(w, title="Далеко", assignedById=1, UF_CRM_FR_CITY="Владивосток")
    assert "«Владивосток»" in _run(w, far)["return_values"]["error"]
    assert int(w.item(1, far)["assignedById"]) == 1
