"""PortalClient: the only object in the app that talks to a Bitrix24 portal.

Every request goes: per-method budget check → shared leaky bucket (Redis) → HTTP
(fast-bitrix24, see ``transport.py``) → typed error or envelope. Retried here, each time
through the limiter again and at most ``max_attempts`` times: 503 (QUERY_LIMIT_EXCEEDED),
429 (after waiting for the method's reset), connections that never opened, and — for
read-only methods only, since a write may have been applied — 5xx and timeouts.
``expired_token`` refreshes once (``refresh.py``) and retries; everything else raises.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from app.portal import paging
from app.portal.encoding import command, normalize
from app.portal.errors import (
    HostNotAllowed,
    OperatingLimit,
    PortalError,
    PortalGone,
    RateLimited,
    ServerError,
    TokenExpired,
    TokenInvalid,
    TransportError,
    error_for,
)
from app.portal.limiter import OperatingBudget, RateLimiter
from app.portal.limits import GatewayLimits, check_priority
from app.portal.observe import observe
from app.portal.refresh import TokenRefresher
from app.portal.results import BatchResult, ListPage, check_references, parse_batch, section
from app.portal.tokens import Credentials, TokenStore
from app.portal.transport import Transport

BATCH_LIMIT = 50
EXPIRY_MARGIN_S = 30  # a token this close to its end would expire in flight
_READ_VERBS = {"get", "list", "fields", "getlist", "getfields", "current", "info", "search"}


# "get" by name, but it reserves (clear=0) or deletes (clear=1) queue rows: a retry after a
# lost answer would leave the first call's rows reserved under a process id nobody saw
_NOT_READS = {"event.offline.get"}


def is_read_only(method: str) -> bool:
    """By the last name segment (``crm.item.list`` → list): safe to send twice."""
    name = method.lower()
    if name in _NOT_READS:
        return False
    return name.rsplit(".", 1)[-1] in _READ_VERBS or name == "profile"


class PortalClient:
    """Calls one portal (``member_id``) for one process; cheap to build per job."""

    def __init__(
        self,
        member_id: str,
        store: TokenStore,
        redis: Any,
        limits: GatewayLimits,
        *,
        transport: Transport | None = None,
        allow_portal: Callable[[str], bool],
        allow_oauth: Callable[[str], bool],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.member_id = member_id
        self.limits = limits
        self.stats: Counter = Counter()
        self._store = store
        self._allow_portal = allow_portal
        self._sleep = sleep
        self._transport = transport or Transport(limits.connect_timeout, limits.read_timeout)
        self._limiter = RateLimiter(redis, member_id, limits, sleep=sleep, stats=self.stats)
        self._budget = OperatingBudget(redis, member_id, limits, sleep=sleep, stats=self.stats)
        self._refresher = TokenRefresher(
            redis, member_id, store, self._transport, limits,
            allow_oauth=allow_oauth, allow_portal=allow_portal, sleep=sleep, stats=self.stats,
        )  # fmt: skip
        self._creds: Credentials | None = None

    # -- public API ---------------------------------------------------------------------
    def call(self, method: str, params: dict | None = None, *, priority: str = "events") -> Any:
        """``method(params)`` → the envelope's ``result``; raises a typed PortalError."""
        return self._send(method, params or {}, priority).get("result")

    def wait_estimate(self, priority: str = "events", cost: int = 1) -> float:
        """Seconds until ``cost`` requests of ``priority`` would pass the shared rate limiter
        (``RateLimiter.wait_estimate``; read-only, ignores the per-method operating budget).
        A job that would only sleep that long can hand its worker back instead."""
        check_priority(priority)
        return self._limiter.wait_estimate(priority, cost)

    def room(self, priority: str = "events") -> float:
        """Requests of ``priority`` the shared rate limiter would admit now without waiting
        (``RateLimiter.room``; read-only). A job sizes its work to it, or steps aside."""
        check_priority(priority)
        return self._limiter.room(priority)

    def refresh_now(self) -> Credentials:
        """Exchange the stored refresh token now, at the stored OAuth server, and return the
        credentials afterwards (a webhook installation is returned as it is).

        The token answer names the portal's current ``client_endpoint``; when the portal was
        renamed the refresher stores it and the new domain (``TokenRefresher._moved_endpoint``)
        — the one verified way to learn a new portal address (settings/oauth/index.md)."""
        creds = self._store.load(self.member_id)
        if creds.auth_mode == "webhook" or not creds.refresh_token:
            return creds
        self._creds = None
        self._creds = self._refresher.refresh(creds.access_token)
        return self._creds

    def call_list_page(
        self, method: str, params: dict | None = None, *, priority: str = "events"
    ) -> ListPage:
        """One page of a list method with ``total`` and ``next`` (None when not sent)."""
        envelope = self._send(method, params or {}, priority)
        return ListPage(
            envelope.get("result"), _int(envelope.get("total")), _int(envelope.get("next"))
        )

    def batch(
        self,
        commands: Mapping[str, tuple[str, dict]],
        *,
        halt: bool = False,
        priority: str = "events",
    ) -> BatchResult:
        """Run ``{key: (method, params)}`` as ``batch`` requests of up to 50 commands each.

        ``$result[key][...]`` placeholders are resolved by the portal inside ONE request,
        so a command may only refer to a key placed before it in the same chunk of 50:
        keep chained groups within one chunk (e.g. groups of <= 50 commands). A reference
        to any other key raises ValueError before anything is sent. With ``halt=True`` the
        first failing command stops its chunk and no later chunk is sent."""
        keys = [str(k) for k in commands]
        chunks = [keys[i : i + BATCH_LIMIT] for i in range(0, len(keys), BATCH_LIMIT)]
        items = {str(k): v for k, v in commands.items()}
        for chunk in chunks:
            check_references(chunk, items)
        out = BatchResult()
        for chunk in chunks:
            methods = {k: items[k][0] for k in chunk}
            cmd = {k: command(items[k][0], items[k][1]) for k in chunk}
            envelope = self._send(
                "batch", {"halt": 1 if halt else 0, "cmd": cmd}, priority, methods.values()
            )
            part = parse_batch(envelope, methods)
            self._record_batch(envelope, methods, part)
            out.merge(part)
            if halt and part.errors:
                out.halted = True
                break
        return out

    def iter_list(
        self,
        method: str,
        params: dict | None = None,
        *,
        id_field: str = "ID",
        items_key: str | None = None,
        batch_pages: int = 1,
        progress: Callable[[int], None] | None = None,
        priority: str = "sync",
    ) -> Iterator[dict]:
        """Every record once by keyset paging (see ``paging.py``); ``progress(n)`` per page."""
        return paging.iter_list(
            self, method, params, id_field=id_field, items_key=items_key,
            batch_pages=batch_pages, progress=progress, priority=priority,
        )  # fmt: skip

    # -- one request with limits, retries and token handling ------------------------------
    def _send(self, method: str, params: dict, priority: str, sub_methods: Any = None) -> dict:
        check_priority(priority)
        payload = normalize(params)
        budget_methods = list(sub_methods) if sub_methods is not None else [method]
        refreshed = reloaded = False
        attempt = 0
        while True:
            attempt += 1
            creds = self._credentials()
            if not refreshed and self._known_expired(creds):
                # past its lifetime: refresh first — saves the 401 round trip, and a portal
                # renamed meanwhile is followed before its old address is called at all
                self._creds = None
                self._creds = creds = self._refresher.refresh(creds.access_token)
                refreshed = True
            self._budget.wait_for(budget_methods, priority)
            self._limiter.acquire(priority)
            token = None if creds.auth_mode == "webhook" else creds.access_token
            self.stats["requests"] += 1
            try:
                envelope = self._post(creds, method, payload, token)
            except TokenExpired:
                if refreshed or creds.auth_mode == "webhook":
                    raise
                self._creds = None  # a failed refresh leaves nothing usable cached
                self._creds = self._refresher.refresh(token)
                refreshed = True
                continue
            except TokenInvalid as exc:
                if not reloaded and creds.auth_mode != "webhook":
                    latest = self._store.load(self.member_id)
                    if latest.access_token != token:  # another worker stored a new pair
                        self._creds, reloaded = latest, True
                        continue
                self._store.mark_needs_reinstall(self.member_id, f"{exc.code}: {exc.description}")
                self._creds = None
                raise
            except RateLimited as exc:
                self._limiter.saturate()
                self._retry_or_raise(exc, attempt, "rate_limited")
                continue
            except OperatingLimit as exc:
                for name in budget_methods:
                    self._budget.blocked(name)
                self._retry_or_raise(exc, attempt, "operating_limited", backoff=False)
                continue
            except (ServerError, TransportError) as exc:
                if not (exc.code == "CONNECT" or _all_read_only(method, budget_methods)):
                    raise
                self._retry_or_raise(exc, attempt, "server_error")
                continue
            if method != "batch":
                self._budget.record(method, envelope.get("time"))
            if "error" in envelope:  # a 200 carrying an error (methods may do that)
                raise error_for(
                    envelope["error"], str(envelope.get("error_description") or ""),
                    status=200, method=method,
                )  # fmt: skip
            return envelope

    def _post(self, creds: Credentials, method: str, payload: dict, token: str | None) -> dict:
        """One HTTP request; its outcome is counted in ``app.metrics`` when that exists."""
        try:
            envelope = self._transport.post(_base_url(creds), method, payload, token)
        except PortalError as exc:
            observe("observe_portal_call", method, type(exc).__name__)
            raise
        observe("observe_portal_call", method, "error" if "error" in envelope else "ok")
        return envelope

    def _retry_or_raise(
        self, exc: Exception, attempt: int, reason: str, *, backoff: bool = True
    ) -> None:
        """Raise ``exc`` when the attempts are used up, else count and sleep a backoff."""
        if attempt >= self.limits.max_attempts:
            raise exc
        self.stats["retries"] += 1
        self.stats[f"retries_{reason}"] += 1
        if backoff:
            delay = min(self.limits.backoff_max, self.limits.backoff_base * 2 ** (attempt - 1))
            self._sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311

    def _record_batch(self, envelope: dict, methods: dict[str, str], part: BatchResult) -> None:
        inner = envelope.get("result") if isinstance(envelope.get("result"), dict) else {}
        for key, timing in section(inner.get("result_time")).items():
            if key in methods:
                self._budget.record(methods[key], timing)
        for key, err in part.errors.items():
            if isinstance(err, OperatingLimit):
                self._budget.blocked(methods[key])

    def _known_expired(self, creds: Credentials) -> bool:
        """The stored access token's lifetime is over and a refresh is possible."""
        if creds.auth_mode == "webhook" or creds.expires_at is None:
            return False
        if not (creds.refresh_token and creds.server_endpoint):
            return False
        if not (self.limits.client_id and self.limits.client_secret):
            return False
        expires = creds.expires_at
        if expires.tzinfo is None:  # SQLite drops the zone; the store keeps UTC
            expires = expires.replace(tzinfo=UTC)
        return expires <= datetime.now(UTC) + timedelta(seconds=EXPIRY_MARGIN_S)

    def _credentials(self) -> Credentials:
        if self._creds is None:
            creds = self._store.load(self.member_id)
            if creds.status == "needs_reinstall":
                raise TokenInvalid("NEEDS_REINSTALL", "the installation must be re-installed")
            if creds.status == "uninstalled":
                raise PortalGone("PORTAL_GONE", "the app was uninstalled from this portal")
            if not self._allow_portal(_base_url(creds)):
                raise HostNotAllowed("HOST_NOT_ALLOWED", "portal host is not on the allow-list")
            self._creds = creds
        return self._creds


def _base_url(creds: Credentials) -> str:
    if creds.auth_mode == "webhook":
        if not creds.webhook_url:
            raise TokenInvalid("NO_WEBHOOK", "webhook installation without a webhook URL")
        return creds.webhook_url
    return creds.client_endpoint or f"https://{creds.domain}/rest/"


def _all_read_only(method: str, sub_methods: list[str]) -> bool:
    return all(is_read_only(m) for m in sub_methods) if method == "batch" else is_read_only(method)


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None
