"""Limits shared by every process through Redis: the portal's leaky bucket and per-method budgets.

The portal counts requests per portal (and source IP), not per process, so the bucket lives
in Redis and is updated by one atomic Lua script that reads Redis's own clock (every process
sees the same time). A call of a lower priority may fill the bucket only up to
``GatewayLimits.capacity(priority)``; the rest stays free for the priorities above it.

The per-method operating budget is fed by each response's ``time.operating`` /
``time.operating_reset_at``: when a method has used its priority's share of the limit we sleep
until the reset instead of calling (and raise :class:`OperatingLimit` when that is further
away than ``max_wait``, so RQ retries the job later instead of holding a worker).

Sleeping here is the one legitimate wait of the app; every sleep is counted in ``stats``.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from app.portal.errors import OperatingLimit
from app.portal.limits import GatewayLimits
from app.portal.observe import observe

# Every script starts from the bucket's level now: the stored level less what has drained
# since it was stored, by Redis's own clock. One prefix for all of them, so that what the
# read-only estimates say can never drift from what _ACQUIRE admits.
# KEYS[1] is the bucket hash; ``level_now(drain)`` takes the drain per second.
_LEVEL_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function level_now(drain)
  local level = tonumber(redis.call('HGET', KEYS[1], 'level') or '0')
  local ts = tonumber(redis.call('HGET', KEYS[1], 'ts') or tostring(now))
  return math.max(0, level - drain * math.max(0, now - ts))
end
"""

# ARGV: capacity, drain per s, cost, key ttl s.
# Returns "0" when admitted (level raised by cost), else the seconds to wait (as a string:
# Lua numbers returned to Redis are truncated to integers).
_ACQUIRE = (
    _LEVEL_NOW
    + """
local cap = tonumber(ARGV[1])
local drain = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local level = level_now(drain)
local wait = 0
if level + cost <= cap then
  level = level + cost
else
  wait = (level + cost - cap) / drain
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return tostring(wait)
"""
)

# The same arithmetic as _ACQUIRE without writing anything: ARGV: capacity, drain per s,
# cost → the seconds until ``cost`` requests would be admitted ("0" when they fit now).
_ESTIMATE = (
    _LEVEL_NOW
    + """
local cap = tonumber(ARGV[1])
local drain = tonumber(ARGV[2])
local level = level_now(drain) + tonumber(ARGV[3])
if level <= cap then return '0' end
return tostring((level - cap) / drain)
"""
)

# The same decay without writing anything: ARGV: capacity, drain per s → how many requests
# fit now (capacity minus level; negative when over it).
_ROOM = (
    _LEVEL_NOW
    + """
return tostring(tonumber(ARGV[1]) - level_now(tonumber(ARGV[2])))
"""
)

# After a 503 the portal's bucket is fuller than ours: raise ours to at least ARGV[1] (the
# highest priority's capacity) so every process backs off, robots least. ARGV: that level,
# key ttl s, drain per s.
_SATURATE = (
    _LEVEL_NOW
    + """
local level = math.max(level_now(tonumber(ARGV[3])), tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'level', tostring(level), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""
)


class RateLimiter:
    """The portal's leaky bucket, shared by all processes (one Redis hash per portal)."""

    def __init__(
        self,
        redis: Any,
        member_id: str,
        limits: GatewayLimits,
        *,
        sleep: Callable[[float], None] = time.sleep,
        stats: Counter | None = None,
    ) -> None:
        self.redis = redis
        self.key = f"b24:gw:bucket:{member_id}"
        self.limits = limits
        self.sleep = sleep
        self.stats = stats if stats is not None else Counter()
        self._acquire = redis.register_script(_ACQUIRE)
        self._saturate = redis.register_script(_SATURATE)
        self._estimate = redis.register_script(_ESTIMATE)
        self._room = redis.register_script(_ROOM)
        self._ttl = int(limits.rate_burst / limits.rate_drain) + 60

    def acquire(self, priority: str) -> float:
        """Block until one request of ``priority`` fits; returns the seconds slept."""
        capacity = self.limits.capacity(priority)
        slept = 0.0
        while True:
            raw = self._acquire(
                keys=[self.key], args=[capacity, self.limits.rate_drain, 1, self._ttl]
            )
            wait = float(raw.decode() if isinstance(raw, bytes) else raw)
            if wait <= 0:
                return slept
            # a little jitter so processes that computed the same wait do not all wake at once
            nap = wait + random.uniform(0, 0.2 / self.limits.rate_drain)  # noqa: S311
            self.stats["rate_waits"] += 1
            self.stats["rate_wait_seconds"] += nap
            _observe_wait("rate", priority, nap)
            self.sleep(nap)
            slept += nap

    def wait_estimate(self, priority: str, cost: int = 1) -> float:
        """Seconds until ``cost`` requests of ``priority`` would fit in the bucket (0 when
        they fit now). Reads only: the bucket is not changed, nothing is reserved, so another
        process may take the room first — a hint for scheduling, not a promise."""
        raw = self._estimate(
            keys=[self.key], args=[self.limits.capacity(priority), self.limits.rate_drain, cost]
        )
        return float(raw.decode() if isinstance(raw, bytes) else raw)

    def room(self, priority: str) -> float:
        """How many requests of ``priority`` would fit in the bucket now (negative: that many
        over, ``-room / rate_drain`` seconds of refill). Reads only, like
        :meth:`wait_estimate`: a hint, not a reservation."""
        raw = self._room(
            keys=[self.key], args=[self.limits.capacity(priority), self.limits.rate_drain]
        )
        return float(raw.decode() if isinstance(raw, bytes) else raw)

    def saturate(self) -> None:
        """Mark the bucket full (the portal just answered 503)."""
        full = self.limits.capacity("robots")
        self._saturate(keys=[self.key], args=[full, self._ttl, self.limits.rate_drain])


class OperatingBudget:
    """Last known ``operating`` seconds and ``operating_reset_at`` per method, in Redis."""

    def __init__(
        self,
        redis: Any,
        member_id: str,
        limits: GatewayLimits,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        stats: Counter | None = None,
    ) -> None:
        self.redis = redis
        self.prefix = f"b24:gw:op:{member_id}:"
        self.limits = limits
        self.sleep = sleep
        self.clock = clock
        self.stats = stats if stats is not None else Counter()

    def wait_for(self, methods: Iterable[str], priority: str) -> float:
        """Sleep until every method in ``methods`` is below its share again (or raise)."""
        ceiling = self.limits.operating_ceiling(priority)
        slept = 0.0
        for method in sorted({m.lower() for m in methods}):
            used, reset_at = self._read(method)
            now = self.clock()
            if used < ceiling or reset_at <= now:
                continue
            wait = reset_at - now + 1.0
            if wait > self.limits.max_wait:
                raise OperatingLimit(
                    "OPERATION_TIME_LIMIT",
                    f"operating budget of {method} used up until {reset_at:.0f}",
                    method=method,
                    reset_at=reset_at,
                )
            self.stats["operating_waits"] += 1
            self.stats["operating_wait_seconds"] += wait
            _observe_wait("operating", priority, wait)
            self.sleep(wait)
            slept += wait
        return slept

    def record(self, method: str, timing: Any) -> None:
        """Store what one response's ``time`` says about ``method``."""
        if not isinstance(timing, dict) or "operating" not in timing:
            return
        try:
            used = float(timing.get("operating") or 0.0)
            reset_at = float(timing.get("operating_reset_at") or 0.0)
        except (TypeError, ValueError):
            return
        key = self.prefix + method.lower()
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(key, mapping={"used": used, "reset_at": reset_at})
        pipe.expire(key, 900)
        pipe.execute()

    def blocked(self, method: str) -> float:
        """The portal answered 429: mark the method spent; returns when it should reset."""
        _, reset_at = self._read(method)
        if reset_at <= self.clock():
            reset_at = self.clock() + 60.0  # unknown reset: look again in a minute
        key = self.prefix + method.lower()
        self.redis.hset(key, mapping={"used": self.limits.operating_limit, "reset_at": reset_at})
        self.redis.expire(key, 900)
        return reset_at

    def _read(self, method: str) -> tuple[float, float]:
        used, reset_at = self.redis.hmget(self.prefix + method.lower(), "used", "reset_at")
        return float(used or 0.0), float(reset_at or 0.0)


def _observe_wait(kind: str, priority: str, seconds: float) -> None:
    observe("observe_gateway_wait", kind=kind, priority=priority, seconds=seconds)
