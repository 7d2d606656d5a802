"""A worker SIGKILLed in the middle of sending an SMS: the message is never sent twice.

A real ``python -m app.worker`` process takes the send job; the fake SMS.ru gateway has
received the message and holds its answer; the worker is killed with SIGKILL. The row stays
claimed (``sending``). Then every replay — the same event applied three more times, and the
send job queued three more times and run by a new worker — leaves the gateway with exactly
one message; the row ends ``uncertain`` and the lead's timeline says it may not have gone out.
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

    # replays: the same event applied again, and the send job queued again, three times each
    for _ in range(3):
        world.message(lid, "sms", "Ваш заказ в магазине", cause="event-1")
        enqueue_sends(M, [row["id"]], world.services.redis)
        world.work()
    assert world.sms.texts() == ["Ваш заказ в магазине"]
    (row,) = world.rows(lid)
    assert row["state"] == "uncertain" and row["attempts"] == 1
    assert any("возможно, не отправлено" in c for c in world.comments(lid))
