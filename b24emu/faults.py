"""Fault injection: error rates per status, scripted failures, latency, dropped deliveries.

``portal.core.faults`` holds the live settings (set through ``/_emu/faults``)::

    {"error_rates": {"503": 0.1, "500": 0.05, "429": 0.0, "timeout": 0.0},
     "methods": ["crm.item.list"],          # rates apply only to these (all when absent)
     "fail_next": [{"method": "crm.deal.get", "status": 503, "count": 2}],
     "latency": 0.05,                       # seconds added to every REST request
     "timeout_seconds": 30,                 # how long a "timeout" request hangs
     "drop_deliveries": 0.0,                # share of outbound POSTs silently dropped
     "app_down": false,                     # drop ALL online deliveries (offline queue still fills)
     "seed": 1}
"""

from __future__ import annotations

import random
from typing import Any

from b24emu.registry import RestError

_ERRORS: dict[str, tuple[str, str]] = {
    "503": ("QUERY_LIMIT_EXCEEDED", "Too many requests"),
    "500": ("INTERNAL_SERVER_ERROR", "Internal server error"),
    "429": ("OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit."),
    "502": ("ERROR_UNEXPECTED_ANSWER", "Server returned an unexpected response"),
    "401": ("expired_token", "The access token provided has expired."),
}


class Faults:
    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self._rng = random.Random(settings.get("seed"))

    def configure(self, **settings: Any) -> dict[str, Any]:
        self.settings.clear()
        self.settings.update(settings)
        self._rng = random.Random(settings.get("seed"))
        return self.settings

    @property
    def latency(self) -> float:
        return float(self.settings.get("latency") or 0.0)

    @property
    def timeout_seconds(self) -> float:
        return float(self.settings.get("timeout_seconds") or 30.0)

    def _applies(self, method: str) -> bool:
        methods = self.settings.get("methods")
        return not methods or method in {m.lower() for m in methods}

    def pick(self, method: str) -> str | None:
        """The fault for this request: a status string, ``"timeout"``, or None."""
        for entry in self.settings.get("fail_next") or []:
            wanted = (entry.get("method") or "").lower()
            if entry.get("count", 1) > 0 and (not wanted or wanted == method):
                entry["count"] = entry.get("count", 1) - 1
                return str(entry.get("status", "503"))
        if not self._applies(method):
            return None
        for status, rate in (self.settings.get("error_rates") or {}).items():
            if rate and self._rng.random() < float(rate):
                return str(status)
        return None

    @staticmethod
    def error_for(status: str) -> RestError:
        code, description = _ERRORS.get(status, ("INTERNAL_SERVER_ERROR", "Internal server error"))
        return RestError(code, description, status=int(status) if status.isdigit() else 500)

    def drop_delivery(self) -> bool:
        if self.settings.get("app_down"):
            return True
        rate = float(self.settings.get("drop_deliveries") or 0.0)
        return bool(rate) and self._rng.random() < rate
