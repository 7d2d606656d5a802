"""Where the gateway gets and keeps a portal's credentials.

:class:`TokenStore` is the protocol; production uses ``app.store.installations.SqlTokenStore``.
:class:`MemoryTokenStore` serves one-process tests; :class:`RedisTokenStore` serves benches
and tests that run several processes against one portal (it is not a production store:
tokens would live only as long as Redis keeps them).
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from app.store.installations import Credentials

__all__ = ["Credentials", "MemoryTokenStore", "RedisTokenStore", "TokenStore", "endpoint_change"]


def endpoint_change(client_endpoint: str | None) -> dict[str, str]:
    """The credential fields a new ``client_endpoint`` changes (none when it is None)."""
    if not client_endpoint:
        return {}
    host = urlsplit(client_endpoint).hostname or ""
    port = urlsplit(client_endpoint).port
    return {"client_endpoint": client_endpoint, "domain": f"{host}:{port}" if port else host}


class TokenStore(Protocol):
    def load(self, member_id: str) -> Credentials:
        """Current credentials of ``member_id`` (always re-read, never cached)."""

    def save_tokens(
        self,
        member_id: str,
        access_token: str,
        refresh_token: str,
        expires_at: datetime,
        *,
        client_endpoint: str | None = None,
    ) -> None:
        """Store a refreshed pair; the old refresh token is dead from now on.

        ``client_endpoint`` (only when it changed: the portal was renamed) replaces the
        stored endpoint and domain."""

    def mark_needs_reinstall(self, member_id: str, reason: str) -> None:
        """The portal refused our credentials for good: stop using them."""


class MemoryTokenStore:
    """In-memory store for tests of one process. ``saves`` counts refreshed pairs stored."""

    def __init__(self, *credentials: Credentials) -> None:
        self._lock = threading.Lock()
        self._rows = {c.member_id: c for c in credentials}
        self.saves = 0
        self.reasons: dict[str, str] = {}

    def put(self, credentials: Credentials) -> None:
        with self._lock:
            self._rows[credentials.member_id] = credentials

    def load(self, member_id: str) -> Credentials:
        with self._lock:
            return self._rows[member_id]

    def save_tokens(
        self,
        member_id: str,
        access_token: str,
        refresh_token: str,
        expires_at: datetime,
        *,
        client_endpoint: str | None = None,
    ) -> None:
        with self._lock:
            row = self._rows[member_id]
            self._rows[member_id] = replace(
                row,
                access_token=access_token,
                refresh_token=refresh_token,
                expires_at=expires_at,
                **endpoint_change(client_endpoint),
            )
            self.saves += 1

    def mark_needs_reinstall(self, member_id: str, reason: str) -> None:
        with self._lock:
            self._rows[member_id] = replace(self._rows[member_id], status="needs_reinstall")
            self.reasons[member_id] = reason


class RedisTokenStore:
    """Credentials as one JSON value per portal in Redis, shared by processes (benches/tests)."""

    def __init__(self, redis: Any, prefix: str = "b24:test:creds:") -> None:
        self.redis = redis
        self.prefix = prefix

    def put(self, credentials: Credentials) -> None:
        data = asdict(credentials)
        data["expires_at"] = credentials.expires_at.isoformat() if credentials.expires_at else None
        self.redis.set(self.prefix + credentials.member_id, json.dumps(data))

    def load(self, member_id: str) -> Credentials:
        raw = self.redis.get(self.prefix + member_id)
        if raw is None:
            raise KeyError(member_id)
        data = json.loads(raw)
        if data.get("expires_at"):
            data["expires_at"] = datetime.fromisoformat(data["expires_at"])
        return Credentials(**data)

    def save_tokens(
        self,
        member_id: str,
        access_token: str,
        refresh_token: str,
        expires_at: datetime,
        *,
        client_endpoint: str | None = None,
    ) -> None:
        row = replace(
            self.load(member_id),
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at=expires_at.astimezone(UTC),
            **endpoint_change(client_endpoint),
        )
        self.put(row)
        self.redis.incr(self.prefix + member_id + ":saves")

    def mark_needs_reinstall(self, member_id: str, reason: str) -> None:
        self.put(replace(self.load(member_id), status="needs_reinstall"))
        self.redis.set(self.prefix + member_id + ":reason", reason)

    def saves(self, member_id: str) -> int:
        return int(self.redis.get(self.prefix + member_id + ":saves") or 0)
