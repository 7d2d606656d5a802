"""Prove a user access token that arrived in a portal's POST is OUR app's, with a cache.

A frame open (``AUTH_ID``, ``app.widgets._gate``) and a robot call (``auth[access_token]``,
``app.handlers.robots``) carry a live access token the portal issued to the app for a user.
:func:`app.security.verify_token_on_portal` proves it with ``app.info`` on the STORED domain
of the installation (never one from the request), whose ``CODE`` must be our app
(api-reference/common/system/app-info.md). Tokens are reused for an hour and arrive in bursts,
so the answer is cached in Redis under a SHA-256 of (scope, member_id, token) — never the
token itself:

* a proved token for min(its remaining lifetime, ``PROVED_CACHE_MAX_S``) seconds;
* a refused one for ``DENY_CACHE_S`` seconds, so a flood of forged tokens costs the portal
  one call per token and half a minute;
* an unreachable portal is not cached (the next request asks again).

With Redis down the cache is skipped (every call asks the portal): a robot call accepted
during an outage is kept by ``app.intake``, so the proof must not fail with Redis.
"""

from __future__ import annotations

import hashlib
from typing import Any

from app.security import VerificationFailed, verify_token_on_portal

PROVED_CACHE_MAX_S = 600
DENY_CACHE_S = 30
DENIED = b"denied"


def cache_key(scope: str, member_id: str, token: str) -> str:
    digest = hashlib.sha256(f"{member_id}\0{token}".encode()).hexdigest()
    return f"b24:{scope}:auth:{digest}"


def prove_cached(
    services: Any, scope: str, member_id: str, domain: str, token: str, lifetime: Any = None
) -> None:
    """Return when ``token`` is our app's on ``domain`` (cached); else raise
    :class:`VerificationFailed` (``reachable`` False when the portal did not answer).

    ``lifetime``: seconds the portal says the token lives (``AUTH_EXPIRES`` /
    ``auth[expires_in]``); anything not a number means the cache maximum.
    """
    if not token:
        raise VerificationFailed("no access token")
    key = cache_key(scope, member_id, token)
    cached = _get(services.redis, key)
    if cached == DENIED:
        raise VerificationFailed("refused moments ago")  # do not make the portal answer again
    if cached:
        return
    try:
        verify_token_on_portal(services.settings, domain, token)
    except VerificationFailed as exc:
        if exc.reachable:
            _set(services.redis, key, DENIED, DENY_CACHE_S)
        raise
    raw = str(lifetime or "")
    number = raw.isascii() and raw.isdigit() and len(raw) < 10  # "²".isdigit() too; int() not
    ttl = min(int(raw), PROVED_CACHE_MAX_S) if number else PROVED_CACHE_MAX_S
    if ttl > 0:
        _set(services.redis, key, b"1", ttl)


def _get(redis: Any, key: str) -> bytes | None:
    import redis as redis_lib

    try:
        return redis.get(key)
    except redis_lib.RedisError:
        return None


def _set(redis: Any, key: str, value: bytes, ttl: int) -> None:
    import redis as redis_lib

    try:
        redis.set(key, value, ex=ttl)
    except redis_lib.RedisError:
        pass  # no cache this time; the proof itself stands
