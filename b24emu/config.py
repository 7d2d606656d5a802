"""Configuration of one emulated portal (limits, token lifetimes, cost model, app behaviour).

Everything here can be changed at runtime through ``/_emu/config`` (see README) or
``EmuHandle.configure(**overrides)``; the server reads the live values on every request.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

LIMIT_PROFILES: dict[str, dict[str, Any]] = {
    "off": {"rate_limit": False, "operating_limit": False},
    "standard": {"rate_limit": True, "rate_burst": 50, "rate_drain": 2.0, "operating_limit": True},
    "enterprise": {
        "rate_limit": True,
        "rate_burst": 250,
        "rate_drain": 5.0,
        "operating_limit": True,
    },
}


@dataclass
class EmuConfig:
    """Live settings of a portal. Field names are the keys accepted by ``/_emu/config``."""

    # Leaky bucket per portal (+ source IP): 503 QUERY_LIMIT_EXCEEDED above ``rate_burst``.
    rate_limit: bool = True
    rate_burst: int = 50
    rate_drain: float = 2.0
    # Operating-time budget per (app or webhook, method) over 10 one-minute buckets: 429.
    operating_limit: bool = True
    operating_limit_seconds: float = 480.0
    # Cost model: nominal seconds per call are the method's ``cost``; plus the real handler time
    # when ``count_real_time``; plus ``cost_per_counted_row`` for every row a list method had to
    # count for ``total`` (nothing with start=-1); ``cost_multiplier`` scales the sum.
    count_real_time: bool = True
    cost_per_counted_row: float = 0.00002
    cost_multiplier: float = 1.0
    # OAuth
    access_token_lifetime: int = 3600
    refresh_token_lifetime: int = 180 * 86400
    auth_code_lifetime: int = 30
    payment_required: bool = False
    app_status: str = "L"
    # App lifecycle
    rotate_application_token_on_update: bool = False
    shared_key: str = "b24emu-shared-key"
    language: str = "en"
    # Outbound deliveries (events, robots, installer)
    delivery_timeout: float = 10.0
    # Queue-server delay before an event/robot POST leaves (real portals: seconds).
    delivery_delay: float = 0.0
    # How many outbound POSTs /_emu/deliveries keeps (oldest dropped first).
    delivery_log_limit: int = 50000
    # Offline rows carry the event's data (the prose of api-reference/events/offline-events.md:
    # "the identifiers of the modified object"); False reproduces the docs' examples
    # (event-offline-get.md, event-offline-list.md), which show "EVENT_DATA": false.
    offline_event_data: bool = True
    # Where the app believes the OAuth server lives (defaults to the portal itself).
    oauth_server_endpoint: str | None = None
    # Persist state on shutdown / periodically (``--state FILE``)
    state_file: str | None = None
    state_save_interval: float = 30.0

    def update(self, **overrides: Any) -> None:
        """Apply ``overrides`` (``limits="off"|"standard"|"enterprise"`` expands to a profile)."""
        profile = overrides.pop("limits", None)
        if profile is not None:
            if profile not in LIMIT_PROFILES:
                raise ValueError(f"unknown limits profile {profile!r}")
            overrides = {**LIMIT_PROFILES[profile], **overrides}
        known = {f.name: f for f in fields(self)}
        for key, value in overrides.items():
            if key not in known:
                raise ValueError(f"unknown config key {key!r}")
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_config(**overrides: Any) -> EmuConfig:
    config = EmuConfig()
    config.update(**overrides)
    return config
