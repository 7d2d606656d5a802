"""Issue #20 outage test: Redis stops for 30 s while robot calls, an app update and an
install arrive. Afterwards — with no admin action, only the clock's pass and the workers —
every robot call is answered, every robot exists and the install finishes.

A private ``redis-server`` on a free port (never the machine's 6379) is started, stopped
and started again (empty: the worst case, a Redis without persistence) by this test.
"""

from __future__ import annotations

import functools
import subprocess
import time
from types import SimpleNamespace

import pytest
import redis as redis_lib
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from app.robots import calc_area
from app.store import installations
from app.store.intake import IntakeRow
from tests.app._robots_world import build_world, install

OUTAGE_S = 30
PLACED = {"length": "1", "width": "1"}


def _wait_ping(url: str, up: bool, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ok = redis_lib.Redis.from_url(url, socket_connect_timeout=0.2).ping()
        except redis_lib.RedisError:
            ok = False
        if ok == up:
            return
        time.sleep(0.05)
    raise TimeoutError(f"redis at {url} did not become {'up' if up else 'down'}")


@pytest.fixture
def private_redis(tmp_path):
    """``start()``/``stop()`` a redis-server of our own; always stopped at the end."""
    from b24emu.testing import free_port

    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    state = SimpleNamespace(url=url, proc=None)
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--dir", str(tmp_path)]  # fmt: skip

    def start():
        state.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_ping(url, up=True)

    def stop():
        if state.proc is not None and state.proc.poll() is None:
            state.proc.terminate()  # only the process this test started
            state.proc.wait(timeout=10)
        _wait_ping(url, up=False)

    state.start, state.stop = start, stop
    start()
    yield state
    stop()


def _work(svc) -> None:
    worker = SimpleWorker(
        [svc.queue("robots"), svc.queue("events"), svc.queue("sync")],
        connection=svc.redis,
        serializer=JSONSerializer,
    )
    worker.work(burst=True)


def _install_post(world, tokens):
    body = {
        "AUTH_ID": tokens["access_token"], "AUTH_EXPIRES": "3600",
        "REFRESH_ID": tokens["refresh_token"], "SERVER_ENDPOINT": tokens["server_endpoint"],
        "member_id": tokens["member_id"], "status": "L", "PLACEMENT": "DEFAULT",
        "APPLICATION_TOKEN": world.app_state.application_token,
    }  # fmt: skip
    query = {"DOMAIN": world.emu.domain, "PROTOCOL": "0", "LANG": "ru"}
    return world.client.post("/install", query_string=query, data=body)


def _update_event(world, tokens):
    from urllib.parse import urlencode

    auth = {
        "domain": world.emu.domain, "client_endpoint": world.emu.rest_url,
        "server_endpoint": tokens["server_endpoint"], "member_id": world.member_id,
        "application_token": world.app_state.application_token,
        "access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"],
    }  # fmt: skip
    pairs = [("event", "ONAPPUPDATE"), ("ts", str(int(time.time()))), ("data[VERSION]", "2")]
    pairs += [(f"auth[{k}]", v) for k, v in auth.items()]
    return world.client.post(
        "/app-events", data=urlencode(pairs), content_type="application/x-www-form-urlencoded"
    )


def test_a_30_second_redis_outage_loses_no_robot_call_update_or_install(
    emulator, make_services, private_redis
):
    from app.timers.clock import durable_intake

    world = build_world(emulator, functools.partial(make_services, redis_url=private_redis.url))
    install(world)  # the metal playbook: fields, stages, robots (calc_area among them)
    robots_before = set(world.rest("bizproc.robot.list"))
    assert calc_area.SPEC.code in robots_before
    svc = world.services
    leads = [
        world.rest("crm.item.add", {"entityTypeId": 1, "fields": {"title": f"L{i}"}})["item"]["id"]
        for i in range(3)
    ]
    runs = [world.mint_call("calc_area", 1, lead_id, PLACED) for lead_id in leads]
    client_id = world.app_state.client_id

    private_redis.stop()
    began = time.monotonic()
    # robot calls arrive: answered 200 (kept durably), not 500
    for lead_id, run in zip(leads, runs, strict=True):
        body = world.body(
            "lead", "calc_area", document=["crm", "CCrmDocumentLead", f"LEAD_{lead_id}"],
            event_token=run["event_token"], properties={"length": "2", "width": "3"},
        )  # fmt: skip
        assert world.post("calc_area", body).status_code == 200
    # the app is updated: the portal deletes our robots and sends ONAPPUPDATE
    world.emu.admin.post(f"apps/{client_id}/update", {})
    assert calc_area.SPEC.code not in {code for _, code in world.emu.portal.core.robots}
    tokens = world.emu.admin.post(f"apps/{client_id}/tokens", {"user_id": 1})
    assert _update_event(world, tokens).status_code == 200
    # an admin (re)installs from the portal's installer page
    fresh = world.emu.admin.post(f"apps/{client_id}/tokens", {"user_id": 1})
    page = _install_post(world, fresh)
    assert page.status_code == 200 and "installFinish" in page.get_data(as_text=True)
    with svc.session() as s:
        assert s.query(IntakeRow).count() >= 5  # 3 robot calls, the update, the install
        assert installations.get(s, world.member_id).status == "installing"
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - began)))

    private_redis.start()  # back, and empty
    for _ in range(4):  # the clock's passes and the workers; no admin action
        durable_intake(svc)
        _work(svc)

    for run in world.runs("calc_area"):
        if run["event_token"] in {r["event_token"] for r in runs}:
            assert run["status"] == "completed", run
            assert run["return_values"]["area"] == 6.0
    assert robots_before <= set(world.rest("bizproc.robot.list"))
    with svc.session() as s:
        assert installations.get(s, world.member_id).status == "active"
        assert s.query(IntakeRow).count() == 0
    status_url = page.get_data(as_text=True).split('var url = "')[1].split('"')[0]
    assert world.client.get(status_url).get_json()["done"] is True


def test_an_install_stuck_installing_resumes_by_itself(emulator, make_services, private_redis):
    """An install whose job vanished (Redis lost it) is re-enqueued by the clock."""
    from datetime import timedelta

    from app.intake import STUCK_AFTER
    from app.store.base import utcnow
    from app.timers.clock import durable_intake

    world = build_world(emulator, functools.partial(make_services, redis_url=private_redis.url))
    svc = world.services
    with svc.session.begin() as s:
        row = installations.get(s, world.member_id)
        row.status, row.install_progress = "installing", "queued"
    with svc.session.begin() as s:  # its last sign of life: longer ago than STUCK_AFTER
        s.query(installations.Installation).update(
            {"updated_at": utcnow() - STUCK_AFTER - timedelta(minutes=1)}
        )
    durable_intake(svc)
    durable_intake(svc)  # a second pass within the interval does not enqueue it twice
    assert [j.func_name for j in svc.queue("sync").get_jobs()] == [
        "app.jobs.install.install_portal"
    ]
    _work(svc)
    with svc.session() as s:
        assert installations.get(s, world.member_id).status == "active"
