"""Who may use the merge window API: a signed per-portal token, or the application token.

* **Signed token** (what the merge window's iframe gets when the widget opens):
  ``<expires>.<hex>`` where ``hex = HMAC-SHA256(key=application_token,
  msg="objects:<member_id>:<expires>")`` and ``expires`` is a UNIX time. It proves the
  holder got it from the app for this portal, and it stops working at ``expires``.
  Sent as ``Authorization: Bearer <token>``.
* **Application token** (server-to-server, e.g. a script of the portal's admin): the
  installation's ``application_token`` in the ``X-Application-Token`` header.

Both compare in constant time; a portal without an application token accepts neither.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from app.security import tokens_match

DEFAULT_TTL = 3600


def sign(application_token: str, member_id: str, expires: int) -> str:
    msg = f"objects:{member_id}:{int(expires)}".encode()
    digest = hmac.new(application_token.encode(), msg, hashlib.sha256).hexdigest()
    return f"{int(expires)}.{digest}"


def issue(application_token: str, member_id: str, *, ttl: int = DEFAULT_TTL, now=None) -> str:
    """A token for the merge window of ``member_id``, valid ``ttl`` seconds."""
    return sign(application_token, member_id, int((now or time.time()) + ttl))


def allowed(
    application_token: str | None,
    member_id: str,
    *,
    bearer: str | None,
    header_token: str | None,
    now: float | None = None,
) -> bool:
    """True when either credential is valid for ``member_id`` now."""
    if not application_token:
        return False
    if header_token and tokens_match(application_token, header_token):
        return True
    if not bearer or "." not in bearer:
        return False
    expires, _, _ = bearer.partition(".")
    if not (expires.isascii() and expires.isdigit() and len(expires) <= 12):
        return False  # "²" or 5000 digits: int() would raise
    if int(expires) < (now or time.time()):
        return False
    return tokens_match(sign(application_token, member_id, int(expires)), bearer)
