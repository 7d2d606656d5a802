"""Per-client rate limit for the endpoints anyone may call before being authenticated.

``/install``, ``/install/status/…``, ``/app-events`` and ``/widgets/…`` answer requests
that prove nothing yet, and some of them make the app call the portal (``app.info``).
Each client address gets ``LIMIT`` requests per ``WINDOW_S`` seconds per endpoint group
(a Redis counter, ``INCR`` + ``EXPIRE``: one round trip, shared by every web worker);
beyond it the answer is 429 with ``Retry-After`` and nothing is done. Portals deliver
events and robot calls to ``/events`` and ``/robots`` from their own servers in bursts, so
they are not limited here: ``/events`` makes no outbound call, and ``/robots`` makes one
(``app.info``, cached per token) only for a caller that proved the application token.

If Redis is unreachable the limiter lets the request through (the handler then fails or
succeeds on its own terms): a Redis outage must not lock out the portal's admin.
"""

from __future__ import annotations

import logging
import time

from flask import Response, request

log = logging.getLogger(__name__)

LIMIT = 60
WINDOW_S = 60

# The clock the windows are cut from; a module attribute so that a test can hold it still
# (a real minute boundary falling inside a 61-request test would reset the count).
clock = time.time


def client_address() -> str:
    """The client's address: the peer's, or behind ``TRUSTED_PROXIES`` reverse proxies the
    one they forwarded (``create_app`` installs ProxyFix; headers are not read here)."""
    return request.remote_addr or "-"


def over_limit(redis, group: str, client: str, limit: int = LIMIT, window: int = WINDOW_S) -> bool:
    """Count one request of ``client`` in ``group``; True when it is over ``limit``."""
    import redis as redis_lib

    slot = int(clock()) // window
    key = f"b24:rl:{group}:{client}:{slot}"
    try:
        pipe = redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, window + 1)
        count = pipe.execute()[0]
    except redis_lib.RedisError:
        return False
    return int(count) > limit


def guard(group: str, limit: int = LIMIT, window: int = WINDOW_S):
    """A ``before_request`` hook for a blueprint: 429 once a client exceeds the limit."""

    def check() -> Response | None:
        from app.handlers import services

        if not over_limit(services().redis, group, client_address(), limit, window):
            return None
        log.warning("rate limit: %s over %s requests/%ss on %s", group, limit, window, request.path)
        resp = Response("too many requests; try again later", status=429, mimetype="text/plain")
        resp.headers["Retry-After"] = str(window)
        return resp

    return check
