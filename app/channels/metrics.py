"""Client-message metrics (low-cardinality labels: channel and outcome only)."""

from __future__ import annotations

from prometheus_client import Counter

MESSAGES = Counter(
    "b24app_client_messages_total",
    "Client messages by channel and outcome (sent, refused, failed, uncertain)",
    ["channel", "outcome"],
)


def observe(channel: str | None, outcome: str) -> None:
    MESSAGES.labels(channel or "none", outcome).inc()
