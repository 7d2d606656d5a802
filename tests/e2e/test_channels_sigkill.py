"""A worker SIGKILLed in the middle of sending an SMS: the message is never sent twice.

A real ``python -m app.worker`` process takes the send job; the fake SMS.ru gateway has
received the message and holds its answer; the worker is killed with SIGKILL. The row stays
claimed (``sending``) and the dead job's Redis lease stays until it expires. Replays while
the lease lives are no-ops (its owner might still be sending); once it has expired (deleted
here instead of waiting ``LEASE_S``), a job knows the owner died: the row ends ``uncertain``
and the lead's timeline says it may not have gone out. Every replay — the same event applied
three more times, the send job queued three more times — leaves the gateway with exactly
one message.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.channels.dispatch import enqueue_sends
from app.channels.jobs import lease_key
from tests.app._channels_world import M, channels_world

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(tmp_path, redis_url):
    yield from channels_world(tmp_path, redis_url)


def _worker(world, tmp_path):
    settings = world.services.settings
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "EMULATOR_ADDRESS": world.emu.domain,
        "VAR_DIR": str(tmp_path / "var"),
        "PYTHONPATH": str(ROOT),
    }
    argv = [sys.executable, "-m", "app.worker", "--queues", "events"]
    return subprocess.Popen(argv, env=env, cwd=ROOT, start_new_session=True)  # noqa: S603


def test_sigkill_during_a_send_never_sends_twice(world, tmp_path):
    lid = world.lead(phone="+79123456789")
    world.sms.delay = 60  # the gateway takes the message, then keeps the worker waiting
    world.message(lid, "sms", "Ваш заказ в магазине", cause="event-1")
    proc = _worker(world, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not world.sms.received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert world.sms.received, "the worker never reached the gateway"
        (row,) = world.rows(lid)
        assert row["state"] == "sending"  # claimed before the provider call
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    world.sms.delay = 0

    # replays while the dead job's lease lives: nothing happens
    for _ in range(3):
        world.message(lid, "sms", "Ваш заказ в магазине", cause="event-1")
        enqueue_sends(M, [row["id"]], world.services.redis)
        world.work()
    assert world.rows(lid)[0]["state"] == "sending"
    # the lease expires (LEASE_S later): the next job finds the owner dead
    assert world.services.redis.delete(lease_key(M, row["id"])) == 1
    for _ in range(3):
        world.message(lid, "sms", "Ваш заказ в магазине", cause="event-1")
        enqueue_sends(M, [row["id"]], world.services.redis)
        world.work()
    assert world.sms.texts() == ["Ваш заказ в магазине"]
    (row,) = world.rows(lid)
    assert row["state"] == "uncertain" and row["attempts"] == 1
    assert any("возможно, не отправлено" in c for c in world.comments(lid))
