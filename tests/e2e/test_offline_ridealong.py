"""End to end: the offline safety net rides along in the drain's batches (issue 22).

Emulator → POST /events (our Flask app) → Redis/RQ → worker → emulator, with the offline
events bound the way the installer binds them on a portal that has ``rest_auth_connector``
(api-reference/events/offline-events.md "How to Avoid Cycles": bound with a source key, our
writes pass it and queue no rows). Every HTTP request the emulator received is counted.
"""

from __future__ import annotations

import pytest

from app.sync import dirty, offline
from tests.e2e.test_events_e2e import _messages, _use, events_world

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _short_handover(monkeypatch):
    """The hand-over waits for online POSTs in flight; the tests' POSTs have all landed."""
    from app.sync import ridealong

    monkeypatch.setattr(ridealong, "HANDOVER_DELAY", 0.5)


@pytest.fixture
def world(tmp_path, redis_url, redis_conn):
    yield from events_world(tmp_path, redis_url, connector=True)


def _webform_lead(world, title):
    """A lead the portal creates itself (a web form): no REST request of ours."""
    body = {"source": "webform", "user_id": 1, "title": title}
    return int(world.emu.admin.post("crm/lead", body)["id"])


def _requests(world):
    log = world.emu.admin.requests_log(limit=1000)
    return int(log.get("total_http") or 0), [row["method"] for row in log.get("log") or []]


def _clock_ticks(world, monkeypatch):
    """The clock's offline safety net, as if its grace and interval had passed (the
    reconciliation, a different safety net with its own figures, is not due)."""
    from app.jobs import events

    monkeypatch.setattr(events, "RIDE_GRACE", 0)
    world.services.redis.delete(f"b24:every:catch_up_offline:{world.member_id}")
    world.services.redis.set(f"b24:every:reconcile:{world.member_id}", b"1", ex=900)
    return [job for job, _ in events.enqueue_safety_nets(world.services)]


def _lead_while_the_app_was_down(world):
    """A web-form lead whose online ADD (and offline notice) the app never received: only
    the offline queue knows of it. Returns its id."""
    world.emu.admin.post("faults", {"app_down": True})
    lost = _webform_lead(world, "Lost")
    world.emu.wait_deliveries(10)
    world.emu.admin.post("faults", {"app_down": False})
    return lost


def _queue(world):
    return [r for r in world.emu.portal.core.offline if r.client_id]


def test_a_lone_lead_costs_two_requests_safety_net_included(world, monkeypatch):
    world.emu.admin.reset_requests()
    lead_id = _webform_lead(world, "Lone")
    world.settle()  # the ONCRMLEADADD and the ONOFFLINEEVENT notice came; the drain ran
    assert _messages(world) == [f"new lead {lead_id}"]
    assert world.emu.portal.crm.get_item(1, lead_id)["title"] == "Lone [seen]"
    # the read batch carried the offline check, the write batch its clear; our own write
    # (the title) passed the source key and queued nothing
    assert _queue(world) == []
    assert not world.services.redis.exists(dirty.announced_key(world.member_id))
    assert "catch_up_offline" not in _clock_ticks(world, monkeypatch)
    world.settle()
    total, methods = _requests(world)
    assert (total, methods) == (2, ["batch", "batch"]), methods
    calls = world.emu.admin.get("requests", limit=0)["calls"]
    assert calls.get("event.offline.get") == 1 and calls.get("event.offline.clear") == 1


def test_a_lead_whose_online_event_was_lost_is_processed_from_the_offline_queue(world):
    lost = _lead_while_the_app_was_down(world)
    assert world.queued() == 0 and _messages(world) == []
    world.emu.admin.reset_requests()
    seen = _webform_lead(world, "Seen")
    world.settle()
    # the drain of "Seen" checked the queue in its read batch: the row of "Lost" is covered
    # by no online event, so it was handed over by process_id to the catch-up, which
    # re-selected it (event.offline.get {process_id}), processed the lead and cleared
    assert sorted(_messages(world)) == sorted([f"new lead {lost}", f"new lead {seen}"])
    assert world.emu.portal.crm.get_item(1, lost)["title"] == "Lost [seen]"
    assert _queue(world) == []
    assert not world.services.redis.exists(offline.handover_key(world.member_id))
    # the hand-over's rows were found by the drain's check: nothing left for the clock
    assert not world.services.redis.exists(dirty.announced_key(world.member_id))
    _, methods = _requests(world)
    # 2 for "Seen"; the catch-up: re-select, a fresh look, clear; "Lost": read + write
    assert methods.count("batch") == 4, methods


def test_rows_are_cleared_only_after_their_record_was_processed(world):
    from app.jobs.events import catch_up_offline

    lost = _lead_while_the_app_was_down(world)
    # the catch-up dies after processing the record, before its clear reaches the portal
    world.emu.admin.post(
        "faults", {"fail_next": [{"method": "event.offline.clear", "status": 500}]}
    )
    _webform_lead(world, "Seen")
    world.settle()
    assert f"new lead {lost}" in _messages(world)
    reserved = [r for r in _queue(world) if r.process_id]
    assert reserved and not any(r.error for r in reserved)  # still there, still reserved
    assert world.services.redis.exists(offline.handover_key(world.member_id))
    previous = _use(world.services)
    try:
        again = catch_up_offline(world.member_id)  # the retry / the clock's next run
    finally:
        _use(previous)
    assert again["rows"] >= 1
    assert _queue(world) == []
    assert _messages(world).count(f"new lead {lost}") == 1  # processed again: no new actions


def test_rows_reserved_by_a_check_whose_answer_was_lost_are_found_again(world):
    lost = _lead_while_the_app_was_down(world)
    # the read batch carrying the check runs on the portal, its answer is lost (a 500)
    world.emu.admin.post(
        "faults", {"fail_next": [{"method": "batch", "status": 500, "after": True}]}
    )
    seen = _webform_lead(world, "Seen")
    world.settle()
    # the round did not fail: its reads went again without the check (a read batch the
    # gateway retries); the catch-up it asked for found the rows reserved under the lost
    # answer's process id (event.offline.list) and settled them
    assert f"new lead {seen}" in _messages(world)
    assert f"new lead {lost}" in _messages(world)
    assert _queue(world) == []
    assert not world.services.redis.exists(offline.orphans_key(world.member_id))
    assert not [j for j in world.services.queue("events").failed_job_registry.get_job_ids()]
