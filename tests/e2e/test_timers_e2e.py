"""End to end: the clock and a worker as real processes, stopped, time moved past due
timers, Redis flushed, restarted — every due timer fires exactly once (asserted at the
emulator's notifications).

The kitchens playbook is installed on the emulator (webhook mode) by the real installer;
three new leads start their SOS through the rules. Phase 1: the clock and worker announce
them to the sales department. Then both stop; a tick "20 minutes later" claims the next
steps and enqueues jobs no worker will see, and Redis is flushed (the jobs are lost). One
lead is taken in the portal meanwhile. Phase 2 restarts both "40 minutes later": the lost
claims come back, the two open leads get ONE widened SOS each (not one per missed quarter
hour), the taken lead gets nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from app.store import installations
from app.store.timers import CANCELLED, FIRED, PENDING
from app.timers import service
from app.timers.clock import tick
from app.timers.clocks import SystemClock

pytestmark = pytest.mark.e2e

M = "member-timers-e2e"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(tmp_path, redis_url):
    import app.services as services_module
    from app.installers.run import install_playbooks
    from app.services import Services
    from app.store.migrate import upgrade
    from b24emu.testing import running_emulator
    from config.settings import Settings

    db_url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(db_url)
    with running_emulator() as emu:
        settings = Settings(
            database_url=db_url,
            redis_url=redis_url,
            emulator_address=emu.domain,
            var_dir=str(tmp_path / "var"),
        )
        services = Services(settings)
        previous = services_module.use(services)
        with services.session() as s:
            installations.upsert_verified(
                s,
                M,
                domain=emu.domain,
                auth_mode="webhook",
                webhook_url=emu.webhook_url(),
                playbooks=["kitchens"],
            )
            s.commit()
        install_playbooks(services, M, ["kitchens"])
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "EMULATOR_ADDRESS": emu.domain,
            "VAR_DIR": str(tmp_path / "var"),
            "PYTHONPATH": str(ROOT),
        }
        procs = Procs(env)
        try:
            yield services, emu, procs
        finally:
            procs.stop()
            services_module.use(previous)
            services.close()


class Procs:
    def __init__(self, env):
        self.env, self.running = env, []

    def start(self, offset_s: float) -> None:
        env = {**self.env, "TIMERS_TIME_OFFSET_S": str(offset_s)}
        py = sys.executable
        for argv in (
            [py, "-m", "app.worker", "--queues", "timers"],
            [py, "-m", "app.timers.clock", "--interval", "0.2"],
        ):
            self.running.append(
                subprocess.Popen(argv, env=env, cwd=ROOT, start_new_session=True)  # noqa: S603
            )

    def stop(self) -> None:
        for p in self.running:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.running:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.running = []


def _notes(emu):
    return [(n["to_user_id"], n["message"]) for n in emu.admin.get("crm/notifications")]


def _wait_for(emu, count, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(_notes(emu)) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"expected {count} notifications, got {len(_notes(emu))}")


def test_due_timers_fire_exactly_once_across_a_stop_a_time_jump_and_a_flushed_redis(world):
    from app.sync.context import portal_context
    from app.sync.process import process_record

    services, emu, procs = world
    ctx = portal_context(services, M)
    leads = []
    for name in ("Иванов", "Петров", "Сидоров"):
        item = ctx.client.call("crm.item.add", {"entityTypeId": 1, "fields": {"title": name}})
        leads.append(item["item"]["id"])
        process_record(ctx, "lead", leads[-1])  # the created event: SOS timer started

    procs.start(offset_s=0)
    _wait_for(emu, 9)  # 3 leads × 3 people in the sales department
    procs.stop()
    assert sorted(u for u, _ in _notes(emu)) == [2, 2, 2, 3, 3, 3, 4, 4, 4]

    # down: a tick "20 min later" enqueues the next steps, then Redis loses the jobs
    later = SystemClock(timedelta(minutes=20))
    assert tick(services, later).enqueued == 3
    services.redis.flushdb()
    taken = leads[2]
    ctx.client.call(
        "crm.item.update", {"entityTypeId": 1, "id": taken, "fields": {"assignedById": 3}}
    )

    procs.start(offset_s=40 * 60)
    _wait_for(emu, 9 + 8)  # two open leads × (sales + head + CEO) = 4 people
    time.sleep(3)  # a dozen more ticks: nothing may fire again
    procs.stop()
    second = _notes(emu)[9:]
    assert len(second) == 8 and sorted(u for u, _ in second) == [1, 1, 2, 2, 3, 3, 4, 4]
    assert all("SOS" in text for _, text in second)
    assert not any("Сидоров" in text for _, text in second)
    with services.session() as s:
        rows = service.list_timers(s, member_id=M, limit=1000)
    by_lead = {lead: sorted(t.state for t in rows if t.record_id == lead) for lead in leads}
    assert by_lead[leads[0]] == by_lead[leads[1]] == sorted([FIRED, FIRED, PENDING])
    assert by_lead[taken] == sorted([FIRED, CANCELLED])
