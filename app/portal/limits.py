"""The gateway's numbers: the portal's plan, priorities, retries and timeouts.

One frozen :class:`GatewayLimits`, built from the app's ``Settings`` by :meth:`from_settings`
(``rate_burst``, ``rate_drain_per_s``, ``operating_limit_s``, ``b24_client_id``,
``b24_client_secret``); everything else has defaults that match a cloud portal.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

PRIORITIES = ("robots", "events", "sync", "bulk")  # highest first

# Share of the bucket a priority leaves free for the ones above it: robot replies always
# find room, bulk work never fills more than 60 % of the burst.
DEFAULT_RESERVE = {"robots": 0.0, "events": 0.1, "sync": 0.2, "bulk": 0.4}
# Share of a method's operating budget a priority may use before it waits for the reset.
DEFAULT_OPERATING_SHARE = {"robots": 0.97, "events": 0.9, "sync": 0.85, "bulk": 0.8}


@dataclass(frozen=True)
class GatewayLimits:
    rate_burst: int = 50
    rate_drain: float = 2.0
    # Requests kept free below the portal's burst: our clock is not the portal's, and a
    # request acquired earlier may arrive later than one acquired after it.
    rate_margin: float | None = None
    reserve: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RESERVE))
    operating_limit: float = 480.0
    operating_share: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_OPERATING_SHARE))
    # Longest sleep for one per-method budget reset; longer → OperatingLimit (RQ retries later).
    max_wait: float = 120.0
    # Attempts per call for 503/429/connection failures (each one through the limiter again).
    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 10.0
    connect_timeout: float = 10.0
    read_timeout: float = 55.0  # the cloud cuts a request at 60 s
    refresh_lock_ttl: float = 60.0  # must outlive one OAuth request (refresh_timeout)
    refresh_lock_wait: float = 70.0
    refresh_timeout: float = 20.0
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.rate_burst < 1 or self.rate_drain <= 0:
            raise ValueError("rate_burst must be >= 1 and rate_drain > 0")
        unknown = (set(self.reserve) | set(self.operating_share)) - set(PRIORITIES)
        if unknown:
            raise ValueError(f"unknown priorities {sorted(unknown)}")

    @property
    def margin(self) -> float:
        if self.rate_margin is not None:
            return self.rate_margin
        return min(self.rate_burst / 4, 2 + self.rate_drain * 0.1)

    def capacity(self, priority: str) -> float:
        """How full the shared bucket may get before a call of ``priority`` has to wait."""
        check_priority(priority)
        usable = max(1.0, self.rate_burst - self.margin)
        return max(1.0, usable - self.rate_burst * self.reserve.get(priority, 0.0))

    def operating_ceiling(self, priority: str) -> float:
        check_priority(priority)
        return self.operating_limit * self.operating_share.get(priority, 0.9)

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> GatewayLimits:
        """Read the app's Settings (or any object with the same attribute names)."""
        if isinstance(settings, GatewayLimits):
            return replace(settings, **overrides) if overrides else settings
        values: dict[str, Any] = {}
        pairs = {
            "rate_burst": "rate_burst",
            "rate_drain": "rate_drain_per_s",
            "operating_limit": "operating_limit_s",
            "client_id": "b24_client_id",
            "client_secret": "b24_client_secret",
        }
        for ours, theirs in pairs.items():
            value = getattr(settings, theirs, None) if settings is not None else None
            if value is not None:
                values[ours] = value
        values.update(overrides)
        return cls(**values)


def check_priority(priority: str) -> None:
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {PRIORITIES}, not {priority!r}")
