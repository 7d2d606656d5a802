"""The two portal limits: a leaky bucket per portal+IP (503) and operating-time budgets (429)."""

from __future__ import annotations

import math
from collections import defaultdict

from b24emu.config import EmuConfig
from b24emu.registry import RestError

BUCKET_SECONDS = 60
BUCKETS = 10


class LeakyBucket:
    """``level = max(0, level - drain*dt) + 1``; rejected when the level would exceed ``burst``.

    A rejected request does not add to the level (the portal refused it before counting)."""

    def __init__(self) -> None:
        self._levels: dict[str, tuple[float, float]] = {}

    def hit(self, key: str, now: float, config: EmuConfig) -> None:
        level, at = self._levels.get(key, (0.0, now))
        level = max(0.0, level - config.rate_drain * max(0.0, now - at))
        if level + 1 > config.rate_burst:
            self._levels[key] = (level, now)
            raise RestError("QUERY_LIMIT_EXCEEDED", "Too many requests", status=503)
        self._levels[key] = (level + 1, now)

    def level(self, key: str, now: float, config: EmuConfig) -> float:
        level, at = self._levels.get(key, (0.0, now))
        return max(0.0, level - config.rate_drain * max(0.0, now - at))

    def reset(self) -> None:
        self._levels.clear()


class OperatingBudget:
    """Seconds spent per (app/webhook, method) in 10 one-minute buckets (a sliding window).

    ``check`` runs before a call (429 once the sum already exceeds the limit); ``add`` after it,
    so the call that crosses the limit still completes."""

    def __init__(self) -> None:
        # key → {minute_index: seconds}
        self._buckets: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)

    def _live(self, key: tuple[str, str], now: float) -> dict[int, float]:
        minute = int(now // BUCKET_SECONDS)
        buckets = self._buckets[key]
        for old in [m for m in buckets if m <= minute - BUCKETS]:
            del buckets[old]
        return buckets

    def used(self, key: tuple[str, str], now: float) -> float:
        return sum(self._live(key, now).values())

    def reset_at(self, key: tuple[str, str], now: float) -> int:
        """Unix time when the oldest live bucket expires (now + 10 min when none)."""
        buckets = self._live(key, now)
        oldest = min(buckets) if buckets else int(now // BUCKET_SECONDS)
        return int((oldest + BUCKETS) * BUCKET_SECONDS)

    def check(self, key: tuple[str, str], now: float, config: EmuConfig) -> None:
        if config.operating_limit and self.used(key, now) > config.operating_limit_seconds:
            raise RestError(
                "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.", status=429
            )

    def add(self, key: tuple[str, str], now: float, seconds: float) -> float:
        buckets = self._live(key, now)
        minute = int(now // BUCKET_SECONDS)
        buckets[minute] = buckets.get(minute, 0.0) + max(0.0, seconds)
        return sum(buckets.values())

    def reset(self) -> None:
        self._buckets.clear()


def call_cost(nominal: float, processing: float, counted_rows: int, config: EmuConfig) -> float:
    """Operating seconds charged for one call (see ``EmuConfig`` cost model fields)."""
    cost = nominal + counted_rows * config.cost_per_counted_row
    if config.count_real_time:
        cost += processing
    cost *= config.cost_multiplier
    return 0.0 if math.isnan(cost) else cost
