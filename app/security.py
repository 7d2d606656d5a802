"""Constant-time secret comparison and application-token verification."""

from __future__ import annotations

import hmac
from typing import Any


def tokens_match(a: str | bytes | None, b: str | bytes | None) -> bool:
    """True when both are non-empty and equal; constant time; ``None``/empty never match."""
    if not a or not b:
        return False
    if isinstance(a, str):
        a = a.encode("utf-8")
    if isinstance(b, str):
        b = b.encode("utf-8")
    return hmac.compare_digest(a, b)


def verify_application_token(installation: Any, token: str | None) -> bool:
    """True when ``token`` equals the installation's stored ``application_token``.

    An installation without a stored token (not confirmed yet) or an uninstalled one never
    verifies: events for it are refused rather than trusted.
    """
    if installation is None or getattr(installation, "status", None) == "uninstalled":
        return False
    return tokens_match(getattr(installation, "application_token", None), token)
