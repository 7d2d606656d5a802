"""Reporting to ``app.metrics`` when that module (and the hook) exists; silent otherwise.

The gateway must work in tests and benches without Prometheus, so the hooks are looked up
by name at call time instead of imported at module level.
"""

from __future__ import annotations

from typing import Any

_missing = object()
_metrics: Any = None


def observe(hook: str, *args: Any, **kwargs: Any) -> None:
    """Call ``app.metrics.<hook>(*args, **kwargs)`` if it is there; never raise from metrics."""
    global _metrics
    if _metrics is None:
        try:
            from app import metrics as module
        except ImportError:
            module = _missing
        _metrics = module
    fn = getattr(_metrics, hook, None) if _metrics is not _missing else None
    if callable(fn):
        try:
            fn(*args, **kwargs)
        except Exception:  # noqa: BLE001, S110 (a metrics failure must not fail a portal call)
            pass
