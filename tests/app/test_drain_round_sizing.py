"""How big a drain round is, and when it steps aside (app.jobs.events._fit_round,
app.sync.round_cost; docs/events.md "Handing the turn back").

The drain runs against the real shared limiter (a Redis bucket, app.portal.limiter) and a
real dirty set; what a round does with its records is replaced by a stand-in that spends
a given number of requests through the limiter, as the gateway client would. The events
queue is a stand-in whose ``count`` says whether another job waits.
"""

from __future__ import annotations

import time
from collections import Counter
from types import SimpleNamespace

import pytest

import app.jobs.events as jobs
from app.portal.limiter import RateLimiter
from app.portal.limits import GatewayLimits
from app.sync import dirty, round_cost

MEMBER = "m-rounds"
LIMITS = GatewayLimits(rate_burst=20, rate_drain=2.0, rate_margin=0)  # events: 18 requests


class _Client:
    """The gateway client as the drain sees it: the shared limiter, a request counter."""

    def __init__(self, redis) -> None:
        self.limits = LIMITS
        self.stats: Counter = Counter()
        self.slept: list[float] = []
        self.limiter = RateLimiter(redis, MEMBER, LIMITS, sleep=self.slept.append)

    def room(self, priority: str = "events") -> float:
        return self.limiter.room(priority)

    def send(self, requests: int) -> None:
        for _ in range(requests):
            self.limiter.acquire("events")
            self.stats["requests"] += 1


class _World:
    def __init__(self, redis, monkeypatch, *, waiting: int) -> None:
        self.redis = redis
        self.client = _Client(redis)
        self.continued: list[tuple] = []  # drains re-enqueued at the back of the queue
        self.queue = SimpleNamespace(
            count=waiting, enqueue=lambda *a, **k: self.continued.append(a)
        )
        self.rounds: list[int] = []  # records per round processed
        self.handed_back: list[float] = []
        self.requests_per_round = lambda n: 2 + n // 10  # a read, a write, more as n grows
        self.services = SimpleNamespace(
            redis=redis,
            portal=lambda member_id: self.client,
            queue=lambda name: self.queue,
        )
        monkeypatch.setattr(jobs, "_services", lambda: self.services)
        monkeypatch.setattr(
            jobs, "portal_context", lambda services, member_id: SimpleNamespace(client=self.client)
        )
        monkeypatch.setattr(jobs, "_process_taken", self._process)
        monkeypatch.setattr(jobs, "_hand_back", self._hand_back)
        # a drain that already went behind the waiting jobs once (the next test's subject)
        self.yielded = True
        monkeypatch.setattr(jobs, "_already_yielded", lambda: self.yielded)
        self.naps: list[float] = []
        self.seconds_per_record = 0.01
        monkeypatch.setattr(jobs.time, "sleep", self._nap)
        # the worker time a round takes is the stand-in's: a clock it moves
        self.clock = 1000.0
        monkeypatch.setattr(jobs.time, "monotonic", lambda: self.clock)

    def _process(self, services, ctx, taken):
        self.rounds.append(len(taken))
        self.clock += self.seconds_per_record * len(taken)
        self.client.send(self.requests_per_round(len(taken)))
        return []

    def _hand_back(self, services, member_id, delay):
        self.handed_back.append(delay)
        return True

    def _nap(self, seconds: float) -> None:
        """The drain's wait while the bucket refills: let time pass in the bucket instead of
        on the clock (its level drops by what ``seconds`` would drain)."""
        self.naps.append(seconds)
        self.clock += seconds
        level = float(self.redis.hget(self.client.limiter.key, "level") or 0)
        self.redis.hset(
            self.client.limiter.key, "level", max(0.0, level - seconds * LIMITS.rate_drain)
        )

    def dirty(self, n: int, entity: str = "lead", first: int = 1000) -> None:
        at = self.redis.zcard(dirty.dirty_key(MEMBER))
        for i in range(n):
            self.redis.zadd(dirty.dirty_key(MEMBER), {dirty.entry(entity, first + i): at + i + 1})
        self.redis.set(dirty.flag_key(MEMBER), b"1")

    def fill(self, used: float) -> None:
        """The bucket holds ``used`` requests (what earlier calls left), Redis's clock."""
        sec, usec = self.redis.time()
        self.redis.hset(self.client.limiter.key, mapping={"level": used, "ts": sec + usec / 1e6})

    def learn(self, per_record: float) -> None:
        requests = round_cost.FIXED + round(50 * per_record)
        round_cost.record(self.redis, MEMBER, requests, 50, 50, 50 * self.seconds_per_record)


@pytest.fixture
def world(redis_conn, monkeypatch):
    def make(waiting: int) -> _World:
        return _World(redis_conn, monkeypatch, waiting=waiting)

    return make


def test_a_low_bucket_with_others_waiting_hands_back_instead_of_sleeping(world):
    w = world(waiting=3)
    w.dirty(50)
    w.learn(0.1)  # a 50-record round costs 2 + 5 = 7 requests
    w.fill(LIMITS.capacity("events") - 1)  # room for one request only
    result = jobs.drain_changes(MEMBER)
    assert result["handed_back"] == w.handed_back[0]
    assert w.rounds == [] and w.client.slept == [] and w.naps == []
    # back when the bucket holds the whole round: 6 more requests at 2/s
    assert w.handed_back[0] == pytest.approx(3.0, abs=0.05)
    assert w.redis.zcard(dirty.dirty_key(MEMBER)) == 50  # nothing taken away


def test_a_lone_portal_never_hands_back_it_waits_for_its_round(world):
    w = world(waiting=0)
    w.dirty(50)
    w.learn(0.1)
    w.fill(LIMITS.capacity("events") + 2)  # over the top: a 503's aftermath
    jobs.drain_changes(MEMBER)
    assert w.handed_back == []
    assert w.rounds == [50]  # the whole round, once the bucket held it
    assert sum(w.naps) == pytest.approx((2 + 7) / LIMITS.rate_drain, abs=0.1)
    assert w.client.slept == []  # waited before the round, not inside the limiter


def test_a_round_never_exceeds_what_the_bucket_holds_when_others_wait(world):
    w = world(waiting=2)
    w.dirty(50)
    w.learn(0.2)  # 2 + 10 requests for 50 records
    w.fill(LIMITS.capacity("events") - 8)  # room for 8: 2 + 6 → 30 records
    w.requests_per_round = lambda n: 2 + n // 5
    jobs.drain_changes(MEMBER)
    assert w.handed_back == []
    assert w.rounds == [30]
    assert w.client.slept == []  # the round fitted: no request slept in the limiter
    assert w.redis.zcard(dirty.dirty_key(MEMBER)) == 20  # the rest waits for the next turn
    assert w.continued == [("app.jobs.events.drain_changes",)]


def test_a_part_too_small_to_be_worth_its_requests_waits_for_the_whole_round(world):
    w = world(waiting=2)
    w.dirty(50)
    w.learn(0.2)
    w.fill(LIMITS.capacity("events") - 4)  # room for 2 + 2 → 10 of 50 records
    jobs.drain_changes(MEMBER)
    assert w.rounds == []
    assert w.handed_back[0] == pytest.approx((12 - 4) / LIMITS.rate_drain, abs=0.05)


def test_what_rounds_cost_is_learnt_from_the_requests_they_sent(world):
    w = world(waiting=0)
    assert round_cost.per_record(w.redis, MEMBER) == round_cost.PRIOR_PER_RECORD
    w.requests_per_round = lambda n: 2 + n // 5  # 0.2 beyond the read and the write
    w.dirty(50)
    jobs.drain_changes(MEMBER)
    assert round_cost.per_record(w.redis, MEMBER) == pytest.approx(0.2)
    assert round_cost.estimate(round_cost.per_record(w.redis, MEMBER), 50) == 12
    # a small round (a lead alone) costs its read and write and moves the figure little
    w.requests_per_round = lambda n: 2
    w.dirty(1)
    jobs.drain_changes(MEMBER)
    assert round_cost.per_record(w.redis, MEMBER) == pytest.approx(5 / 26)
    assert 0 < w.redis.ttl(round_cost.key(MEMBER)) <= round_cost.TTL
    assert round_cost.seconds_per_record(w.redis, MEMBER) == pytest.approx(0.01)


def test_echoes_of_records_the_app_created_cost_nothing_and_wait_for_nothing(world):
    """The ADD echo of an Object the app created is settled from the mirror without a read
    (app.sync.process.without_read): it neither counts in the round's estimate nor waits."""
    w = world(waiting=3)
    w.dirty(40, entity="dynamic:1220", first=1)
    dirty.remember_created(w.redis, MEMBER, [("dynamic:1220", i) for i in range(1, 41)])
    w.dirty(10)  # ten leads behind them
    w.learn(0.1)
    w.fill(LIMITS.capacity("events") - 2)  # room for a read and a write, no more
    w.requests_per_round = lambda n: 0
    jobs.drain_changes(MEMBER)
    assert w.handed_back == []
    assert w.rounds == [40]  # the echoes now; the leads wait for a round's room
    assert w.client.slept == []
    assert round_cost.per_record(w.redis, MEMBER) == pytest.approx(0.1)  # unchanged


def test_while_other_portals_are_active_a_round_is_sized_to_a_short_turn(world):
    w = world(waiting=0)
    w.seconds_per_record = 0.02
    w.learn(0.1)
    w.redis.zadd(jobs.ACTIVE_KEY, {"another-portal": time.time()})
    w.dirty(50)
    jobs.drain_changes(MEMBER)
    turn = max(jobs.SHARED_MIN, int(jobs.SHARED_TURN / 0.02))
    assert w.rounds == [turn] and turn < 50  # SHARED_TURN seconds of worker time
    w.redis.delete(jobs.ACTIVE_KEY)  # the others went quiet: whole rounds again
    jobs.drain_changes(MEMBER)
    assert w.rounds[1] == 50 - turn


def test_a_portal_that_drained_long_ago_does_not_count_as_active(world):
    w = world(waiting=0)
    w.redis.zadd(jobs.ACTIVE_KEY, {"another-portal": time.time() - jobs.ACTIVE_WINDOW - 1})
    w.dirty(50)
    jobs.drain_changes(MEMBER)
    assert w.rounds == [50]


def test_estimates_grow_with_the_round_and_fitting_inverts_them():
    assert round_cost.estimate(0.1, 0) == 0
    assert round_cost.estimate(0.1, 1) == 3
    assert round_cost.estimate(0.1, 50) == 7
    assert round_cost.estimate(0.0, 50) == 2
    for per in (0.0, 0.06, 0.1, 0.25, 1.0):
        for room in (0, 1.5, 2, 3.7, 7, 12, 40):
            n = round_cost.fitting(per, 50, room)
            assert n == 0 or round_cost.estimate(per, n) <= room
            assert n == 50 or round_cost.estimate(per, n + 1) > room


def test_a_busy_drain_goes_behind_waiting_jobs_once_before_its_round(world):
    w = world(waiting=4)
    w.yielded = False
    w.dirty(50)
    result = jobs.drain_changes(MEMBER)
    assert result["yielded"] and w.rounds == []
    assert w.continued == [("app.jobs.events.drain_changes",)]  # behind the four
    w.yielded = True  # its next turn: no second step aside, whoever waits
    jobs.drain_changes(MEMBER)
    assert w.rounds == [50]


def test_a_lead_alone_never_steps_aside(world):
    w = world(waiting=4)
    w.yielded = False
    w.dirty(1)
    jobs.drain_changes(MEMBER)
    assert w.rounds == [1] and w.continued == []
