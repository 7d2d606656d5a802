"""Who may use the browser APIs of the older widget pages (``/booking/…``, ``/objects/…``).

A **page bearer** that names the viewer (``app.widgets._viewer``: the tabs get one when the
portal tells who is looking, so bookings and merges are attributed to that person: see
:func:`caller`), or else the anonymous **signed bearer** the app handed to a frame it
opened (``app.handlers.widgets``):
``<expires>.<hex>`` where ``hex = HMAC-SHA256(key=page key,
msg="objects:<member_id>:<expires>")`` and ``expires`` is a UNIX time. It proves the holder got it from the app for this portal, and
it stops working at ``expires``. Sent as ``Authorization: Bearer <token>``.

The key is the installation's **page key** (``app.widgets._viewer.page_key``: an HMAC of the
stored application token under a server-only secret), NOT the application token: newer
portals post ``APPLICATION_TOKEN`` in every frame form (docs/bitrix24-protocol §3.2), so every
portal user — and every former one — could read it and sign themselves bearers. For the same
reason the application token itself (the old ``X-Application-Token`` header) is no
credential here. Reinstalling (a new application token) voids old bearers. The page bearers
of ``app.widgets._viewer`` share the key but not the format or the signed message
(``p1.…``, ``"page:…"``), so neither passes for the other.

Compared in constant time; a portal that is not active or has no application token accepts
nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

from app.security import tokens_match

DEFAULT_TTL = 3600


def sign(key: str, member_id: str, expires: int) -> str:
    msg = f"objects:{member_id}:{int(expires)}".encode()
    digest = hmac.new(key.encode(), msg, hashlib.sha256).hexdigest()
    return f"{int(expires)}.{digest}"


def issue(key: str, member_id: str, *, ttl: int = DEFAULT_TTL, now=None) -> str:
    """A bearer for ``member_id``'s widget APIs, valid ``ttl`` seconds (``key``: its page key)."""
    return sign(key, member_id, int((now or time.time()) + ttl))


def allowed(key: str | None, member_id: str, *, bearer: str | None, now=None) -> bool:
    """True when ``bearer`` is a valid, unexpired bearer signed with ``key`` for ``member_id``."""
    if not key or not bearer or "." not in bearer:
        return False
    expires, _, _ = bearer.partition(".")
    if not (expires.isascii() and expires.isdigit() and len(expires) <= 12):
        return False  # "²" or 5000 digits: int() would raise
    if int(expires) < (now or time.time()):
        return False
    return tokens_match(sign(key, member_id, int(expires)), bearer)


def key_of(services: Any, member_id: str) -> str | None:
    """The page key of ``member_id``'s active installation; None when there is none."""
    from app.store import installations
    from app.widgets._viewer import page_key

    with services.session() as session:
        row = installations.get(session, member_id)
        app_token = row.application_token if row is not None and row.status == "active" else None
    return page_key(services, member_id, app_token) if app_token else None


@dataclass(frozen=True)
class Caller:
    """Who is calling a widget API: ``user_id`` from a page bearer (``p1.…``, which names the
    viewer the portal vouched for), or None for the anonymous widget bearer a tab gets when
    the portal could not tell who is looking. Actions are attributed to ``user_id`` only:
    a user id a request's body claims is never believed."""

    user_id: int | None


def caller(services: Any, member_id: str, authorization: str | None) -> Caller | None:
    """The :class:`Caller` the ``Authorization`` header proves for ``member_id``; None when
    it proves nothing (no bearer, a bad or expired one, another portal's).

    Without a client secret the page key's seed lives in Redis: when Redis is down this
    raises werkzeug's ``ServiceUnavailable`` (a JSON 503 "try again", ``app.handlers.page_api``)
    rather than a crash or a misleading 401."""
    from redis.exceptions import RedisError
    from werkzeug.exceptions import ServiceUnavailable

    from app.widgets._viewer import verify_bearer

    header = authorization or ""
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
    if not bearer:
        return None  # no key derivation (nor a Redis seed read) for an empty request
    try:
        key = key_of(services, member_id)
    except RedisError:
        raise ServiceUnavailable() from None
    if allowed(key, member_id, bearer=bearer):
        return Caller(None)
    who = verify_bearer(key, member_id, bearer)
    return Caller(who.user_id) if who is not None else None
