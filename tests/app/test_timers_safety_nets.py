"""The clock process drives the event safety nets: start-up forces offline catch-up and
reconciliation for every active portal (whatever was missed while down), each tick then
enqueues them on the ``sync`` queue at most once per interval."""

import threading
import time
from datetime import UTC, datetime

from app.jobs import events
from app.store import inbox, installations
from app.sync import dirty
from app.timers.clock import run
from app.timers.clocks import ManualClock

APP, HOOK = "member-clock-app", "member-clock-hook"


class _Ticks(threading.Event):
    """A stop event for ``run``: calls ``between(tick_number)`` after each tick instead of
    sleeping, and stops the clock after ``n`` ticks."""

    def __init__(self, n, between=lambda _: None):
        super().__init__()
        self.n, self.done, self.between = n, 0, between

    def wait(self, timeout=None):
        self.done += 1
        self.between(self.done)
        if self.done >= self.n:
            self.set()
        return self.is_set()


def _install(services):
    with services.session() as s:
        for member_id, mode in ((APP, "oauth"), (HOOK, "webhook")):
            installations.upsert_verified(
                s,
                member_id,
                domain=f"{member_id}.bitrix24.com",
                auth_mode=mode,
                status="active",
            )
        s.commit()


def _queued(services):
    return sorted((j.func_name, tuple(j.args)) for j in services.queue("sync").get_jobs())


def _jobs_ran(services):
    """What the workers do with the queued jobs: take them, clear the pending markers."""
    services.queue("sync").empty()
    for member_id in (APP, HOOK):
        for mark in ("offline", "reconcile"):
            inbox.clear_pending(services.redis, inbox.pending_key(member_id, mark, "-", 0))


def _run(services, stop, owner="clock-test"):
    run(services, ManualClock(datetime.now(UTC)), interval=0, stop=stop, owner=owner)


ALL = [
    ("app.jobs.events.catch_up_offline", (APP,)),
    ("app.jobs.events.reconcile", (APP,)),
    ("app.jobs.events.reconcile", (HOOK,)),
]


def test_each_tick_enqueues_the_due_safety_nets_once_per_interval(services):
    _install(services)
    seen = {}

    def between(n):
        seen[n] = _queued(services)
        if n == 1:
            _jobs_ran(services)
            # the catch-up interval has passed (its gate expired); reconciliation's has not
            services.redis.delete(f"b24:every:catch_up_offline:{APP}")
            # ... and the portal announced offline rows (ONOFFLINEEVENT) that no drain's
            # ride-along check took within the grace: without that the catch-up waits for
            # its fallback interval
            dirty.announce_offline(services.redis, APP, at=_before_grace())

    _run(services, _Ticks(3, between))
    assert seen[1] == ALL  # start-up and first tick: each job once
    assert seen[2] == [("app.jobs.events.catch_up_offline", (APP,))]  # the second tick
    assert seen[3] == seen[2]  # third tick: nothing is due again


def test_offline_catch_up_runs_when_announced_or_after_the_fallback(services):
    _install(services)
    events.enqueue_safety_nets(services, force=True)  # start-up: everything at once
    _jobs_ran(services)
    services.redis.delete(f"b24:every:catch_up_offline:{APP}")  # a minute later
    assert events.enqueue_safety_nets(services) == []  # no rows announced: no drain
    dirty.announce_offline(services.redis, APP)
    # announced just now: a drain round's ride-along check may take it (app.sync.ridealong)
    assert events.enqueue_safety_nets(services) == []
    services.redis.delete(dirty.announced_key(APP))
    dirty.announce_offline(services.redis, APP, at=_before_grace())  # no drain took it
    assert events.enqueue_safety_nets(services) == [("catch_up_offline", APP)]
    _jobs_ran(services)
    assert events.enqueue_safety_nets(services) == []  # once per interval, however many
    services.redis.delete(dirty.announced_key(APP))  # the job took the announcement
    services.redis.delete(f"b24:every:offline_fallback:{APP}")  # 15 minutes later
    assert events.enqueue_safety_nets(services) == [("catch_up_offline", APP)]


def _before_grace():
    return time.time() - events.RIDE_GRACE - 1


def test_clock_start_up_catches_up_at_once_after_downtime(services):
    _install(services)
    assert len(events.enqueue_safety_nets(services)) == 3
    _jobs_ran(services)  # the last run before the app went down
    assert events.enqueue_safety_nets(services) == []  # a plain tick: within the intervals
    stopped = threading.Event()
    stopped.set()  # the clock starts and is stopped before its first tick
    _run(services, stopped)
    assert _queued(services) == ALL  # start-up forced both safety nets for every portal
    _run(services, stopped, owner="second-clock")  # a second clock starting too
    assert _queued(services) == ALL  # jobs still queued are not doubled
