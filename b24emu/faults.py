"""Fault injection: error rates per status, scripted failures, latency, dropped deliveries.

``portal.core.faults`` holds the live settings (set through ``/_emu/faults``)::

    {"error_rates": {"503": 0.1, "500": 0.05, "429": 0.0, "timeout": 0.0},
     "methods": ["crm.item.list"],          # rates apply only to these (all when absent)
     "fail_next": [{"method": "crm.deal.get", "status": 503, "count": 2},
                   {"method": "profile", "error": "OVERLOAD_LIMIT"},    # any §1.5 code
                   {"method": "batch", "status": 500, "after": true}],  # applied, then 500
     "after_share": 0.5,                    # share of rate-drawn 500s/timeouts that strike
                                            # after the call ran (its effect stays)
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

# Every code of the protocol doc's error table (§1.5): code → (HTTP status, description).
ERROR_TABLE: dict[str, tuple[int, str]] = {
    "NO_AUTH_FOUND": (401, "Wrong authorization data"),
    "expired_token": (401, "The access token provided has expired."),
    "invalid_token": (401, "The access token provided is invalid."),
    "INVALID_CREDENTIALS": (401, "Invalid request credentials"),
    "insufficient_scope": (
        403,
        "The request requires higher privileges than provided by the access token",
    ),
    "ACCESS_DENIED": (403, "Access denied!"),
    "WRONG_AUTH_TYPE": (
        403,
        "Current authorization type is denied for this method Application context required",
    ),
    "user_access_error": (403, "The user does not have access to the application"),
    "PORTAL_DELETED": (403, "Portal was deleted"),
    "ERROR_METHOD_NOT_FOUND": (404, "Method not found!"),
    "ERROR_ARGUMENT": (400, "Argument is null or empty"),
    "ERROR_CORE": (400, "Internal error"),
    "NOT_FOUND": (400, "Item not found"),
    "INVALID_ARG_VALUE": (400, "Invalid argument value"),
    "CRM_FIELD_ERROR_VALUE_NOT_VALID": (400, "Invalid value for field"),
    "ERROR_BATCH_LENGTH_EXCEEDED": (400, "Max batch length exceeded"),
    "ERROR_BATCH_METHOD_NOT_ALLOWED": (405, "Method is not allowed for batch usage"),
    "OPERATION_TIME_LIMIT": (429, "Method is blocked due to operation time limit."),
    "QUERY_LIMIT_EXCEEDED": (503, "Too many requests"),
    "OVERLOAD_LIMIT": (503, "REST API is blocked due to overload"),
    "INTERNAL_SERVER_ERROR": (500, "Internal server error"),
    "ERROR_UNEXPECTED_ANSWER": (500, "Server returned an unexpected response"),
    "METHOD_CONFIRM_WAITING": (401, "Waiting for confirmation"),
    "METHOD_CONFIRM_DENIED": (403, "Method call denied"),
    "ERROR_OAUTH": (400, "OAuth error"),
}
# A bare HTTP status in the fault settings means this code.
_BY_STATUS = {
    "503": "QUERY_LIMIT_EXCEEDED",
    "500": "INTERNAL_SERVER_ERROR",
    "429": "OPERATION_TIME_LIMIT",
    "401": "expired_token",
    "403": "ACCESS_DENIED",
    "404": "ERROR_METHOD_NOT_FOUND",
    "400": "ERROR_CORE",
}


# Faults that may strike after the request ran (its effect stays, the answer is lost).
AFTER_KINDS = frozenset({"500", "timeout", "INTERNAL_SERVER_ERROR"})


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
        fault, _after = self.pick_with_phase(method)
        return fault

    def pick_with_phase(self, method: str) -> tuple[str | None, bool]:
        """(fault, after): ``after`` True when the call is to run first and its answer then
        be lost to the fault — what a real portal's 500 or a timeout can do to a write that
        it had already applied. Only 500s and timeouts strike after; a refusal (503, 429,
        token) is always decided before anything ran."""
        for entry in self.settings.get("fail_next") or []:
            wanted = (entry.get("method") or "").lower()
            if entry.get("count", 1) > 0 and (not wanted or wanted == method):
                entry["count"] = entry.get("count", 1) - 1
                fault = str(entry.get("error") or entry.get("status", "503"))
                return fault, bool(entry.get("after")) and fault in AFTER_KINDS
        if not self._applies(method):
            return None, False
        for status, rate in (self.settings.get("error_rates") or {}).items():
            if rate and self._rng.random() < float(rate):
                share = float(self.settings.get("after_share") or 0.0)
                after = str(status) in AFTER_KINDS and bool(share) and self._rng.random() < share
                return str(status), after
        return None, False

    @staticmethod
    def error_for(fault: str) -> RestError:
        """A status ("503") or an error code ("OVERLOAD_LIMIT") → the documented error."""
        code = _BY_STATUS.get(fault, fault)
        status, description = ERROR_TABLE.get(code, (500, "Internal server error"))
        if code not in ERROR_TABLE:
            code = "INTERNAL_SERVER_ERROR"
        return RestError(code, description, status=status)

    def drop_delivery(self) -> bool:
        if self.settings.get("app_down"):
            return True
        rate = float(self.settings.get("drop_deliveries") or 0.0)
        return bool(rate) and self._rng.random() < rate
