"""The leaky bucket (503) and the per-method operating budget (429)."""

import requests

from b24emu.testing import running_emulator


def test_leaky_bucket_rejects_above_burst_and_batch_counts_once():
    with running_emulator(rate_limit=True, rate_burst=5, rate_drain=0.001) as emu:
        hook = emu.webhook_url()
        batch = {"cmd": {str(i): "server.time" for i in range(40)}}
        statuses = [requests.post(hook + "batch", json=batch).status_code for _ in range(5)]
        assert statuses == [200] * 5  # 5 batches of 40 calls = 5 requests
        resp = requests.post(hook + "profile")
        assert resp.status_code == 503
        assert resp.json() == {
            "error": "QUERY_LIMIT_EXCEEDED",
            "error_description": "Too many requests",
        }


def test_bucket_drains_over_portal_time_and_can_be_switched_off():
    with running_emulator(rate_limit=True, rate_burst=2, rate_drain=1.0) as emu:
        hook = emu.webhook_url()
        assert [requests.post(hook + "profile").status_code for _ in range(3)] == [200, 200, 503]
        emu.configure(rate_limit=False)
        assert requests.post(hook + "profile").status_code == 200


def test_operating_limit_blocks_one_method_of_one_caller():
    with running_emulator(
        operating_limit=True, operating_limit_seconds=0.05, count_real_time=False
    ) as emu:
        hook = emu.webhook_url()
        other = emu.webhook_url()
        # profile costs the registry default 0.001 s nominal; make it expensive instead
        emu.configure(cost_multiplier=30.0)  # 0.03 s per call
        first = requests.post(hook + "profile").json()
        assert 0.029 < first["time"]["operating"] < 0.031
        assert first["time"]["operating_reset_at"] > first["time"]["start"]
        assert requests.post(hook + "profile").status_code == 200  # 0.06 > 0.05 after this one
        blocked = requests.post(hook + "profile")
        assert blocked.status_code == 429
        assert blocked.json() == {
            "error": "OPERATION_TIME_LIMIT",
            "error_description": "Method is blocked due to operation time limit.",
        }
        assert requests.post(hook + "server.time").status_code == 200  # other method unaffected
        assert requests.post(other + "profile").status_code == 200  # other webhook unaffected
        # ten minutes later the window has moved on
        emu.admin.post("clock", {"advance": 601})
        assert requests.post(hook + "profile").status_code == 200


def test_counted_rows_make_list_calls_expensive_only_when_total_is_counted(emulator, installed_app):
    emulator.configure(count_real_time=False, cost_per_counted_row=1.0)
    rest = installed_app["rest"]
    rest.call("event.bind", {"event": "ONCRMLEADADD", "event_type": "offline"})
    for i in range(3):
        emulator.admin.post(
            "emit", {"event": "ONCRMLEADADD", "data": {"FIELDS": {"ID": str(i)}}, "user_id": 1}
        )
    counted = rest.raw("event.offline.list").json()
    assert counted["total"] == 3
    assert counted["time"]["operating"] >= 3.0
    before = counted["time"]["operating"]
    fast = rest.raw("event.offline.list", {"start": -1}).json()
    assert fast["total"] == 0 and "next" not in fast
    assert fast["time"]["operating"] - before < 0.5
