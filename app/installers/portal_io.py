"""The installer's only contact with the gateway: ``run_batch`` in chunks of 50.

Accepts the gateway's :class:`~app.portal.results.BatchResult` and also a raw
``{"result":…, "result_error":…}`` dict (small test doubles), so the rest of the installer
sees one shape with typed errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.portal.errors import PortalError, error_for

BATCH_LIMIT = 50


@dataclass
class Outcome:
    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, PortalError] = field(default_factory=dict)
    nexts: dict[str, int] = field(default_factory=dict)
    requests: int = 0


def _section(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    return {}


def _absorb(out: Outcome, raw: Any, methods: Mapping[str, str]) -> None:
    if hasattr(raw, "results") and hasattr(raw, "errors"):
        out.results.update(raw.results)
        out.errors.update(raw.errors)
        out.nexts.update(getattr(raw, "nexts", {}) or {})
        return
    out.results.update(_section(raw.get("result")))
    out.nexts.update({k: int(v) for k, v in _section(raw.get("result_next")).items()})
    for key, err in _section(raw.get("result_error")).items():
        if isinstance(err, PortalError):
            out.errors[key] = err
            continue
        err = err if isinstance(err, Mapping) else {"error": "", "error_description": str(err)}
        out.errors[key] = error_for(
            str(err.get("error") or ""),
            str(err.get("error_description") or ""),
            method=methods.get(key),
        )


def run_batch(client, cmd: Mapping[str, tuple[str, dict]], halt: bool = False) -> Outcome:
    """Send ``cmd`` (key → (method, params)) in batches of ≤ 50, in order."""
    out = Outcome()
    items = list(cmd.items())
    for start in range(0, len(items), BATCH_LIMIT):
        chunk = dict(items[start : start + BATCH_LIMIT])
        raw = client.batch(chunk, halt=halt)
        out.requests += 1
        _absorb(out, raw, {k: m for k, (m, _) in chunk.items()})
    return out


def already_there(exc: PortalError) -> bool:
    """An add refused because the thing exists (robot, event handler, status id...).

    ``event.bind`` duplicates come back either as ``ERROR_HANDLER_ALREADY_EXIST`` or, on
    some builds, as ``ERROR_CORE`` "Unable to set event handler: ..." (protocol §5.1)."""
    text = f"{exc.code} {exc.description}".lower()
    return "already" in text or "unable to set event handler" in text
