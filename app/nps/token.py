"""The survey link's token: ``<payload>.<mac>``, signed with the portal's application token.

``payload`` is ``base64url("<member_id>:<deal_id>:<expires>")``; ``mac`` is
HMAC-SHA256(key=application_token, msg="nps:" + payload), hex. The link therefore names one
deal of one portal, stops working at ``expires`` (UNIX time), and cannot be altered or
forged without the application token, which never leaves the server. Single use is the
store's part: one answer per deal (``app.store.nps``). Pure.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from app.security import tokens_match


class TokenError(ValueError):
    """``kind``: ``tampered`` (not ours / altered) or ``expired``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(kind)


@dataclass(frozen=True)
class Claim:
    member_id: str
    deal_id: int
    expires: int


def _mac(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), f"nps:{payload}".encode(), hashlib.sha256).hexdigest()


def issue(secret: str, member_id: str, deal_id: int, expires: int) -> str:
    raw = f"{member_id}:{int(deal_id)}:{int(expires)}".encode()
    payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{payload}.{_mac(secret, payload)}"


def read(token: str, secret_of: Callable[[str], str | None], now: float) -> Claim:
    """The claim of a genuine, unexpired token; TokenError otherwise. ``secret_of(member_id)``
    gives the portal's application token (None for an unknown portal)."""
    payload, dot, mac = str(token or "").partition(".")
    if not dot or not payload or len(token) > 512:
        raise TokenError("tampered")
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
        member_id, deal, expires = raw.rsplit(":", 2)
        claim = Claim(member_id, int(deal), int(expires))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise TokenError("tampered") from None
    secret = secret_of(claim.member_id)
    if not secret or not tokens_match(_mac(secret, payload), mac):
        raise TokenError("tampered")
    if claim.expires < now:
        raise TokenError("expired")
    return claim
