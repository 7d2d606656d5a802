"""next_step_guard on a portal the real installer set up (b2b), through the HTTP handler and
the job, answered on the emulator."""

from datetime import UTC, datetime, timedelta

import pytest

from app.sync.context import portal_context
from tests.app._robots_world import build_world, install, run_robot

REP = 4


@pytest.fixture
def world(emulator, make_services, redis_url):
    w = build_world(emulator, make_services, playbooks=("b2b",))
    install(w, ("b2b",))
    w.naming = portal_context(w.services, w.member_id).naming
    return w


def _deal(w, stage="b2b.sales.offer"):
    fields = {
        "title": "Сеть «Квартал»",
        "categoryId": w.naming.category("b2b.sales"),
        "stageId": w.naming.stage_id("deal", stage),
        "assignedById": REP,
    }
    return w.rest("crm.item.add", {"entityTypeId": 2, "fields": fields})["item"]["id"]


def _open(w, deal_id):
    flt = {"OWNER_TYPE_ID": 2, "OWNER_ID": deal_id, "COMPLETED": "N"}
    return w.rest("crm.activity.list", {"filter": flt})


def test_a_deal_without_a_step_gets_a_follow_up_and_one_with_a_step_is_left(world):
    w = world
    assert "next_step_guard" in w.rest("bizproc.robot.list")
    bare = _deal(w)
    run = run_robot(w, "next_step_guard", 2, bare)
    assert run["return_values"]["had_next_step"] in (False, "N", "0", 0)
    assert run["return_values"]["error"] == ""
    (todo,) = _open(w, bare)
    assert todo["SUBJECT"] == "Следующий шаг по сделке «Сеть «Квартал»»"
    assert int(todo["RESPONSIBLE_ID"]) == REP
    # now it has one: the guard answers so and plans nothing more
    again = run_robot(w, "next_step_guard", 2, bare)
    assert again["return_values"]["had_next_step"] in (True, "Y", "1", 1)
    assert len(_open(w, bare)) == 1


def test_a_planned_call_counts_and_a_lead_is_an_error_answer(world):
    w = world
    deal = _deal(w)
    due = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    w.rest(
        "crm.activity.todo.add",
        {"ownerTypeId": 2, "ownerId": deal, "deadline": due, "title": "Позвонить"},
    )
    assert run_robot(w, "next_step_guard", 2, deal)["return_values"]["had_next_step"] in (
        True, "Y", "1", 1,
    )  # fmt: skip
    assert [a["SUBJECT"] for a in _open(w, deal)] == ["Позвонить"]
    lead = w.rest("crm.item.add", {"entityTypeId": 1, "fields": {"title": "Лид"}})["item"]["id"]
    assert "только в сделках" in run_robot(w, "next_step_guard", 1, lead)["return_values"]["error"]
