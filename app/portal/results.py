"""What the gateway hands back: :class:`ListPage` and :class:`BatchResult`, and the batch parser.

A batch envelope's sections may be PHP empty arrays (``[]``) or, when the keys are
``0..n-1``, JSON lists; both are turned back into ``{str(key): value}`` dicts here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.portal.errors import PortalError, error_for


@dataclass(frozen=True)
class ListPage:
    """One page of a list method: the unwrapped ``result``, and ``total``/``next`` if sent."""

    result: Any
    total: int | None = None
    next: int | None = None


@dataclass
class BatchResult:
    """Outcome of :meth:`PortalClient.batch`, keyed by the caller's command keys.

    A key is in ``results`` (success) or ``errors`` (a typed :class:`PortalError` with the
    Bitrix code), or in neither when ``halt`` stopped the batch before it ran."""

    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, PortalError] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    nexts: dict[str, int] = field(default_factory=dict)
    halted: bool = False

    @property
    def result(self) -> dict[str, Any]:
        """Alias of ``results`` for callers written against the raw envelope's name."""
        return self.results

    def merge(self, other: BatchResult) -> None:
        self.results.update(other.results)
        self.errors.update(other.errors)
        self.totals.update(other.totals)
        self.nexts.update(other.nexts)
        self.halted = self.halted or other.halted


def section(value: Any) -> dict[str, Any]:
    """A batch section (``{}``, ``[]``, a list for keys 0..n-1, or None) as a dict."""
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    return {}


def parse_batch(envelope: Mapping[str, Any], methods: Mapping[str, str]) -> BatchResult:
    """Turn a ``batch`` envelope into a :class:`BatchResult` (``methods``: key → sub-method)."""
    inner = envelope.get("result")
    inner = inner if isinstance(inner, Mapping) else {}
    out = BatchResult(
        results=section(inner.get("result")),
        totals={k: int(v) for k, v in section(inner.get("result_total")).items()},
        nexts={k: int(v) for k, v in section(inner.get("result_next")).items()},
    )
    for key, err in section(inner.get("result_error")).items():
        err = err if isinstance(err, Mapping) else {"error": "", "error_description": str(err)}
        out.errors[key] = error_for(
            str(err.get("error", "")),
            str(err.get("error_description") or ""),
            method=methods.get(key),
        )
    return out


_PLACEHOLDER = re.compile(r"\$(?:result|next|total|error)\[([^\[\]]*)\]")


def referenced_keys(params: Any) -> set[str]:
    """Command keys named by ``$result[key]...`` placeholders anywhere in ``params``."""
    found: set[str] = set()
    if isinstance(params, Mapping):
        for k, v in params.items():
            found |= referenced_keys(k) | referenced_keys(v)
    elif isinstance(params, (list, tuple)):
        for v in params:
            found |= referenced_keys(v)
    elif isinstance(params, str) and "$" in params:
        found.update(_PLACEHOLDER.findall(params))
    return found


def check_references(chunk: list[str], items: Mapping[str, tuple[str, Any]]) -> None:
    """Every ``$result[ref]`` must name a command placed before it in the same chunk."""
    seen: set[str] = set()
    for key in chunk:
        for ref in referenced_keys(items[key][1]):
            if ref not in seen:
                raise ValueError(
                    f"batch command {key!r} refers to $result[{ref}], which is not an earlier "
                    "command of the same chunk of 50 (keep chained groups together)"
                )
        seen.add(key)
