"""The clock with a real RQ worker: ticks enqueue each due timer once, a flushed Redis or a
crashed job loses nothing, and every timer fires exactly once (asserted at the emulator)."""

from datetime import UTC, datetime, timedelta

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from app.rules import dispatch
from app.rules.actions import Notify
from app.rules.model import Rule, on_timer
from app.store import installations
from app.store.timers import FIRED, PENDING
from app.timers import claims, handlers, jobs, service
from app.timers.clock import tick
from app.timers.clocks import ManualClock
from app.timers.sequences import audience_ids

M = "member-timers-clock"
PLAYBOOK = "timertest"
KIND = "timertest.ping"


def _ping(ctx):
    return [Notify(audience_ids(ctx, ("ceo",)), f"ping {ctx.change.record_id}")]


@pytest.fixture
def world(make_services, emulator):
    services = make_services(emulator_address=emulator.domain)
    dispatch.register(PLAYBOOK, [Rule("ping", "lead", on_timer(KIND), _ping)])
    handlers.register_kind(KIND, ("ceo",))
    with services.session() as s:
        installations.upsert_verified(
            s,
            M,
            domain=emulator.domain,
            auth_mode="webhook",
            webhook_url=emulator.webhook_url(),
            playbooks=[PLAYBOOK],
        )
        s.commit()
    yield services, emulator
    dispatch.unregister(PLAYBOOK)


def _leads(services, emulator, n):
    client = services.portal(M)
    return [
        client.call("crm.item.add", {"entityTypeId": 1, "fields": {"title": f"L{i}"}})["item"]["id"]
        for i in range(n)
    ]


def _start(services, lead, due):
    with services.session() as s:
        service.start_timer(s, M, kind=KIND, due_at=due, record=("lead", lead), key=f"t{lead}")
        s.commit()


def _work(services):
    queue = services.queue("timers")
    SimpleWorker([queue], connection=services.redis, serializer=JSONSerializer).work(burst=True)


def _pings(emulator):
    return sorted(n["message"] for n in emulator.admin.get("crm/notifications"))


def test_ticks_enqueue_each_due_timer_once_and_the_worker_fires_it(world):
    services, emu = world
    clock = ManualClock(datetime.now(UTC))
    a, b, c = _leads(services, emu, 3)
    _start(services, a, clock.now() - timedelta(hours=2))  # due while we were down
    _start(services, b, clock.now())
    _start(services, c, clock.now() + timedelta(hours=1))
    assert tick(services, clock).enqueued == 2
    assert tick(services, clock).enqueued == 0  # claimed rows are not enqueued again
    assert services.queue("timers").count == 2
    _work(services)
    assert _pings(emu) == sorted([f"ping {a}", f"ping {b}"])
    clock.advance(timedelta(hours=1))
    assert tick(services, clock).enqueued == 1
    _work(services)
    assert _pings(emu) == sorted([f"ping {a}", f"ping {b}", f"ping {c}"])
    with services.session() as s:
        assert {t.state for t in service.list_timers(s, member_id=M)} == {FIRED}


def test_redis_flushed_after_enqueue_loses_nothing_and_fires_once(world):
    services, emu = world
    clock = ManualClock(datetime.now(UTC))
    leads = _leads(services, emu, 4)
    for lead in leads:
        _start(services, lead, clock.now())
    assert tick(services, clock).enqueued == 4
    assert tick(services, ManualClock(clock.now() + timedelta(minutes=5))).orphans == 0
    services.redis.flushdb()  # the jobs are gone; the rows still say "enqueued"
    assert tick(services, clock).enqueued == 0  # too early to call them orphans
    clock.advance(timedelta(minutes=1))
    report = tick(services, clock)
    assert report.orphans == 4 and report.enqueued == 4
    _work(services)
    _work(services)
    assert _pings(emu) == sorted(f"ping {lead}" for lead in leads)


def test_a_crashed_job_is_retried_after_its_lease_and_fires_once(world, monkeypatch):
    services, emu = world
    clock = ManualClock(datetime.now(UTC))
    (lead,) = _leads(services, emu, 1)
    _start(services, lead, clock.now())
    real = jobs._fire_locked
    calls = []

    def crash_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("portal unreachable")
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "_fire_locked", crash_once)
    tick(services, clock)
    _work(services)  # the job fails (its RQ retry would need the scheduler)
    assert _pings(emu) == []
    clock.advance(claims.DEFAULT_LEASE + timedelta(seconds=1))
    report = tick(services, clock)
    assert report.released == 1 and report.enqueued == 1
    _work(services)
    assert _pings(emu) == [f"ping {lead}"]
    with services.session() as s:
        (row,) = service.list_timers(s, member_id=M)
        assert row.state == FIRED and row.attempts == 2


def test_a_cancelled_timer_is_never_enqueued(world):
    services, emu = world
    clock = ManualClock(datetime.now(UTC))
    (lead,) = _leads(services, emu, 1)
    _start(services, lead, clock.now())
    with services.session() as s:
        assert service.cancel_timers(s, M, kind=KIND, record=("lead", lead)) == 1
        s.commit()
        assert service.list_timers(s, state=PENDING) == []
    assert tick(services, clock).enqueued == 0
