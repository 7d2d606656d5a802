"""The shared limiter: several processes never overflow the portal's bucket; priorities;
per-method operating budgets fed by ``time.operating``."""

from __future__ import annotations

import time

import pytest
import redis

from app.portal import RedisTokenStore, errors
from app.portal.limiter import OperatingBudget, RateLimiter
from app.portal.limits import GatewayLimits
from tests.app.test_portal_support import (
    memory_client,
    request_log,
    run_workers,
    webhook_credentials,
    worker_calls,
)


class _Blocked(Exception):
    pass


def _refuse_to_sleep(seconds: float) -> None:
    raise _Blocked(seconds)


def _admitted(limiter: RateLimiter, priority: str) -> bool:
    try:
        limiter.acquire(priority)
    except _Blocked:
        return False
    return True


def test_three_processes_never_trigger_a_503(emulator, redis_url):
    emulator.configure(rate_limit=True, rate_burst=10, rate_drain=10.0)
    store = RedisTokenStore(redis.Redis.from_url(redis_url))
    store.put(webhook_credentials(emulator, "m-busy"))
    limits = {"rate_burst": 10, "rate_drain": 10.0}
    results = run_workers(worker_calls, [(redis_url, "m-busy", 20, "profile", {}, limits)] * 3)
    assert [r["outcome"] for r in results] == [{"ok": 20}] * 3
    log = [e for e in request_log(emulator) if e["method"] == "profile"]
    assert [e["status"] for e in log] == [200] * 60  # no 503 at the portal, no retries
    assert sum(r["stats"].get("rate_waits", 0) for r in results) > 0  # the limiter held them
    # the portal's own bookkeeping: in no one-second window more than burst + drain requests
    stamps = sorted(e["ts"] for e in log)
    busiest = max(sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps)
    assert busiest <= 10 + 10


def test_the_same_load_without_a_shared_limit_overflows(emulator, redis_url):
    """Control for the test above: with a bucket far larger than the portal's, 503s happen
    (and are retried by the gateway rather than failed)."""
    emulator.configure(rate_limit=True, rate_burst=10, rate_drain=10.0)
    client, _ = memory_client(
        webhook_credentials(emulator), redis_url, max_attempts=20, backoff_base=0.05
    )
    for _ in range(30):
        client.call("profile")
    statuses = [e["status"] for e in request_log(emulator) if e["method"] == "profile"]
    assert 503 in statuses
    assert statuses.count(200) == 30
    assert client.stats["retries_rate_limited"] == statuses.count(503)


def test_lower_priorities_leave_room_for_robots(redis_conn):
    limits = GatewayLimits(rate_burst=10, rate_drain=0.001)  # nothing drains during the test
    limiter = RateLimiter(redis_conn, "m-prio", limits, sleep=_refuse_to_sleep)
    bulk_admitted = 0
    while _admitted(limiter, "bulk"):
        bulk_admitted += 1
    assert 0 < bulk_admitted < 10
    assert _admitted(limiter, "sync")
    assert _admitted(limiter, "robots")
    assert not _admitted(limiter, "bulk")
    robots_admitted = 0
    while _admitted(limiter, "robots"):
        robots_admitted += 1
    assert not _admitted(limiter, "events")
    total = bulk_admitted + 2 + robots_admitted
    assert total < 10  # a safety margin below the portal's burst stays free


def test_bucket_is_shared_between_limiter_objects(redis_conn):
    limits = GatewayLimits(rate_burst=6, rate_drain=0.001, rate_margin=0)
    first = RateLimiter(redis_conn, "m-shared", limits, sleep=_refuse_to_sleep)
    second = RateLimiter(redis_conn, "m-shared", limits, sleep=_refuse_to_sleep)
    other_portal = RateLimiter(redis_conn, "m-other", limits, sleep=_refuse_to_sleep)
    for _ in range(3):
        assert _admitted(first, "robots")
        assert _admitted(second, "robots")
    assert not _admitted(first, "robots")
    assert not _admitted(second, "robots")
    assert _admitted(other_portal, "robots")  # buckets are per portal


def test_operating_budget_makes_bulk_wait_but_not_robots(redis_conn):
    slept: list[float] = []
    now = time.time()
    limits = GatewayLimits(operating_limit=100.0)
    budget = OperatingBudget(redis_conn, "m-op", limits, sleep=slept.append, clock=lambda: now)
    budget.record("crm.item.list", {"operating": 85.0, "operating_reset_at": now + 30})
    budget.wait_for(["crm.item.list"], "robots")
    assert slept == []
    budget.wait_for(["crm.item.list"], "bulk")
    assert len(slept) == 1 and 30 <= slept[0] <= 32  # until the reset, not longer
    budget.wait_for(["crm.item.add"], "bulk")  # other methods are not affected
    assert len(slept) == 1


def test_operating_budget_past_max_wait_raises_instead_of_sleeping(redis_conn):
    now = time.time()
    limits = GatewayLimits(operating_limit=100.0, max_wait=10)
    budget = OperatingBudget(redis_conn, "m-op2", limits, sleep=_refuse_to_sleep, clock=lambda: now)
    budget.record("crm.item.list", {"operating": 99.0, "operating_reset_at": now + 300})
    with pytest.raises(errors.OperatingLimit) as info:
        budget.wait_for(["crm.item.list"], "events")
    assert info.value.reset_at == now + 300


def test_gateway_stops_before_the_portal_answers_429(emulator, redis_url):
    emulator.configure(
        operating_limit=True,
        operating_limit_seconds=0.5,
        count_real_time=False,
        cost_multiplier=300,
    )  # every profile call costs 0.3 s of the 0.5 s budget
    client, _ = memory_client(
        webhook_credentials(emulator), redis_url, operating_limit=0.5, max_wait=5
    )
    client.call("profile")
    client.call("profile")
    with pytest.raises(errors.OperatingLimit) as info:
        client.call("profile")
    assert info.value.reset_at > time.time()
    assert [e["status"] for e in request_log(emulator) if e["method"] == "profile"] == [200, 200]


def _bucket(redis_conn, limiter):
    return redis_conn.hgetall(limiter.key)


def test_wait_estimate_reads_the_bucket_without_changing_it(redis_conn):
    limits = GatewayLimits(rate_burst=6, rate_drain=0.01, rate_margin=0)  # ~nothing drains
    limiter = RateLimiter(redis_conn, "m-estimate", limits, sleep=_refuse_to_sleep)
    assert limiter.wait_estimate("events", 2) == 0.0  # empty bucket: fits now
    assert not redis_conn.exists(limiter.key)  # an estimate writes nothing, not even a hash
    admitted = 0
    while _admitted(limiter, "events"):
        admitted += 1
    before = _bucket(redis_conn, limiter)
    first = limiter.wait_estimate("events", 1)
    second = limiter.wait_estimate("events", 3)
    assert _bucket(redis_conn, limiter) == before  # level and ts untouched
    assert 0 < first < second  # a larger round waits longer: two more requests at 0.01/s
    assert second - first == pytest.approx(2 / limits.rate_drain, rel=0.01)
    assert limiter.wait_estimate("robots", 1) < first  # robots may fill the bucket further
    # repeated estimates reserve nothing: the bucket still admits what it did
    other = RateLimiter(redis_conn, "m-estimate-2", limits, sleep=_refuse_to_sleep)
    for _ in range(5):
        other.wait_estimate("events", 1)
    again = 0
    while _admitted(other, "events"):
        again += 1
    assert again == admitted


def test_wait_estimate_matches_the_wait_acquire_would_sleep(redis_conn):
    limits = GatewayLimits(rate_burst=6, rate_drain=0.01, rate_margin=0)
    slept: list[float] = []

    def record(seconds):
        slept.append(seconds)
        raise _Blocked(seconds)

    limiter = RateLimiter(redis_conn, "m-match", limits, sleep=record)
    while _admitted(limiter, "events"):
        pass
    slept.clear()
    estimate = limiter.wait_estimate("events", 1)
    assert not _admitted(limiter, "events")
    # acquire sleeps its computed wait plus up to 0.2/drain of jitter (limiter.acquire)
    assert estimate - 0.01 <= slept[0] <= estimate + 0.2 / limits.rate_drain + 0.01


def test_portal_client_exposes_the_estimate(emulator, redis_url):
    client, _ = memory_client(webhook_credentials(emulator), redis_url)
    assert client.wait_estimate("events", 2) == 0.0
    with pytest.raises(ValueError):
        client.wait_estimate("nonsense", 1)


def test_room_counts_what_fits_now_and_agrees_with_the_estimate(redis_conn):
    limits = GatewayLimits(rate_burst=6, rate_drain=0.01, rate_margin=0)  # ~nothing drains
    limiter = RateLimiter(redis_conn, "m-room", limits, sleep=_refuse_to_sleep)
    capacity = limits.capacity("events")
    assert limiter.room("events") == pytest.approx(capacity)  # empty bucket
    assert not redis_conn.exists(limiter.key)  # reading the room writes nothing
    limiter.acquire("events")
    limiter.acquire("events")
    before = _bucket(redis_conn, limiter)
    room = limiter.room("events")
    assert room == pytest.approx(capacity - 2, abs=0.01)
    assert _bucket(redis_conn, limiter) == before
    assert limiter.room("robots") > room  # robots may fill the bucket further
    # what fits, fits now; one more waits for its refill
    assert limiter.wait_estimate("events", int(room)) == 0.0
    over = limiter.wait_estimate("events", int(room) + 1)
    assert over == pytest.approx((int(room) + 1 - room) / limits.rate_drain, rel=0.05)
    while _admitted(limiter, "events"):
        pass
    assert limiter.room("events") < 1  # full: nothing more fits


def test_portal_client_exposes_the_room(emulator, redis_url):
    client, _ = memory_client(webhook_credentials(emulator), redis_url)
    assert client.room("events") == pytest.approx(client.limits.capacity("events"))
    with pytest.raises(ValueError):
        client.room("nonsense")


def test_saturate_fills_the_bucket_to_the_top_priority_and_never_lowers_it(redis_conn):
    limits = GatewayLimits(rate_burst=6, rate_drain=0.01, rate_margin=0)  # ~nothing drains
    limiter = RateLimiter(redis_conn, "m-saturate", limits, sleep=_refuse_to_sleep)
    limiter.acquire("events")
    limiter.saturate()  # the portal answered 503: its bucket is fuller than ours
    top = limits.capacity("robots")
    assert float(_bucket(redis_conn, limiter)[b"level"]) == pytest.approx(top, abs=0.01)
    assert not _admitted(limiter, "events")  # every lower priority backs off
    assert limiter.room("robots") == pytest.approx(0, abs=0.01)
    assert redis_conn.ttl(limiter.key) > 0  # the hash does not outlive its refill
    # a bucket already over the top (a higher level set elsewhere) is left where it is
    redis_conn.hset(limiter.key, "level", str(top + 3))
    limiter.saturate()
    assert float(_bucket(redis_conn, limiter)[b"level"]) == pytest.approx(top + 3, abs=0.01)
