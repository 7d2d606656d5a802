"""Token refresh, serialised across processes by a Redis lock per portal.

Refresh tokens rotate and work once: two workers refreshing with the same one lose the
installation (the second gets ``invalid_grant``). So a worker that saw ``expired_token``:

1. takes ``b24:gw:refresh:{member_id}`` (``SET NX PX``; waits while another worker holds it);
2. re-reads the stored credentials: if the access token differs from the one it used,
   somebody already refreshed — it uses the stored one, no OAuth request;
3. otherwise asks the OAuth server (``server_endpoint`` minus ``rest/`` + ``oauth/token/``,
   only when the allow-list accepts that host), stores the new pair, releases the lock.

``invalid_grant``/``invalid_client`` mark the installation ``needs_reinstall`` and raise
:class:`TokenInvalid`; ``PAYMENT_REQUIRED`` raises :class:`PaymentRequired`. Nothing here
loops: one OAuth request per call at most.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from app.portal.errors import (
    HostNotAllowed,
    PaymentRequired,
    PortalError,
    TokenExpired,
    TokenInvalid,
)
from app.portal.limits import GatewayLimits
from app.portal.observe import observe
from app.portal.tokens import Credentials, TokenStore
from app.portal.transport import Transport

log = logging.getLogger(__name__)

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def token_url(server_endpoint: str) -> str:
    """``https://oauth.bitrix.info/rest/`` → ``https://oauth.bitrix.info/oauth/token/``."""
    base = server_endpoint.rstrip("/")
    if base.endswith("/rest"):
        base = base[: -len("/rest")]
    return base + "/oauth/token/"


class TokenRefresher:
    def __init__(
        self,
        redis: Any,
        member_id: str,
        store: TokenStore,
        transport: Transport,
        limits: GatewayLimits,
        *,
        allow_oauth: Callable[[str], bool],
        allow_portal: Callable[[str], bool] = lambda url: False,
        sleep: Callable[[float], None] = time.sleep,
        stats: Counter | None = None,
    ) -> None:
        self.redis = redis
        self.member_id = member_id
        self.store = store
        self.transport = transport
        self.limits = limits
        self.allow_oauth = allow_oauth
        self.allow_portal = allow_portal
        self.sleep = sleep
        self.stats = stats if stats is not None else Counter()
        self.key = f"b24:gw:refresh:{member_id}"
        self._release = redis.register_script(_RELEASE)

    def refresh(self, used_token: str | None) -> Credentials:
        """New credentials after ``used_token`` expired (fresh from the store or the server)."""
        owner = uuid.uuid4().hex
        self._lock(owner)
        try:
            current = self.store.load(self.member_id)
            if current.access_token and current.access_token != used_token:
                self.stats["refresh_skipped"] += 1  # another worker refreshed meanwhile
                observe("observe_token_refresh", "skipped")
                return current
            return self._grant(current)
        finally:
            self._release(keys=[self.key], args=[owner])

    def _lock(self, owner: str) -> None:
        ttl_ms = int(self.limits.refresh_lock_ttl * 1000)
        deadline = time.monotonic() + self.limits.refresh_lock_wait
        while not self.redis.set(self.key, owner, nx=True, px=ttl_ms):
            if time.monotonic() > deadline:
                raise TokenExpired("REFRESH_LOCK_TIMEOUT", "another worker holds the refresh lock")
            self.sleep(0.05)

    def _grant(self, current: Credentials) -> Credentials:
        if not current.refresh_token or not current.server_endpoint:
            return self._give_up(current, "no refresh token stored", "NO_REFRESH_TOKEN")
        if not (self.limits.client_id and self.limits.client_secret):
            raise TokenExpired("NO_CLIENT_SECRET", "B24_CLIENT_ID/B24_CLIENT_SECRET are not set")
        url = token_url(current.server_endpoint)
        if not self.allow_oauth(url):
            raise HostNotAllowed("HOST_NOT_ALLOWED", "OAuth server is not on the allow-list")
        params = {
            "grant_type": "refresh_token",
            "client_id": self.limits.client_id,
            "client_secret": self.limits.client_secret,
            "refresh_token": current.refresh_token,
        }
        self.stats["refresh_requests"] += 1
        try:
            body = self.transport.get_json(url, params, self.limits.refresh_timeout)
        except PortalError as exc:
            observe("observe_token_refresh", type(exc).__name__)
            return self._failed(current, exc)
        access, refresh = body.get("access_token"), body.get("refresh_token")
        if not access or not refresh:
            raise TokenExpired("REFRESH_FAILED", "token response without tokens")
        moved = self._moved_endpoint(current, body)
        if moved:
            self.store.save_tokens(
                self.member_id, access, refresh, _expires_at(body), client_endpoint=moved
            )
        else:
            self.store.save_tokens(self.member_id, access, refresh, _expires_at(body))
        self.stats["refreshes"] += 1
        observe("observe_token_refresh", "ok")
        return self.store.load(self.member_id)

    def _moved_endpoint(self, current: Credentials, body: dict) -> str | None:
        """The portal's new REST address when the token answer names another one (the portal
        was renamed; settings/oauth/index.md: ``client_endpoint`` is where calls go). Only
        for this member_id and an allow-listed host; the answer's ``domain`` is the OAuth
        server's, never the portal's, so it is not used."""
        endpoint = str(body.get("client_endpoint") or "")
        if not endpoint or endpoint == current.client_endpoint:
            return None
        if str(body.get("member_id") or self.member_id) != self.member_id:
            return None
        if not self.allow_portal(endpoint):
            log.warning("token answer names a portal host that is not allowed; kept the old one")
            return None
        log.info("portal moved: REST endpoint updated from the token answer")
        return endpoint

    def _failed(self, current: Credentials, exc: PortalError) -> Credentials:
        """What a refused or failed token request means for the installation."""
        if isinstance(exc, PaymentRequired):
            raise exc
        if isinstance(exc, TokenInvalid):  # invalid_grant / invalid_client: the pair is dead
            reason = f"refresh refused: {exc.code}: {exc.description}"
            return self._give_up(current, reason, exc.code)
        # 5xx, timeouts: the refresh token was probably not consumed; let RQ retry
        raise TokenExpired(exc.code or "REFRESH_FAILED", exc.description) from None

    def _give_up(self, current: Credentials, reason: str, code: str) -> Credentials:
        # A worker whose lock expired mid-refresh may have stored a new pair after all.
        latest = self.store.load(self.member_id)
        if latest.access_token and latest.access_token != current.access_token:
            return latest
        self.store.mark_needs_reinstall(self.member_id, reason)
        raise TokenInvalid(code, reason)


def _expires_at(body: dict) -> datetime:
    if body.get("expires"):
        return datetime.fromtimestamp(int(float(body["expires"])), UTC)
    return datetime.now(UTC) + timedelta(seconds=int(body.get("expires_in") or 3600))
