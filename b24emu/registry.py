"""The REST method registry shared by every method module of the emulator.

A method is a plain function ``fn(call: Call) -> result`` registered with :func:`method`.
It returns the value that goes into the envelope's ``result`` key, or a :class:`ListPage`
for list methods (the server lifts ``total``/``next`` out of it into the envelope), and
raises :class:`RestError` for every documented error. The transport layer (``server.py``)
does routing, parameter parsing, auth, scopes, limits, batch and the envelope; method
modules never see HTTP.

Method modules live in ``b24emu/methods/`` and are imported by ``b24emu.methods.load_all()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from b24emu.state import Portal


class RestError(Exception):
    """A Bitrix24 error envelope: ``{"error": code, "error_description": description, **extra}``.

    ``status`` is the HTTP status the portal answers with (400 unless the protocol doc's
    error table says otherwise). Inside ``batch`` the status is dropped and the body goes
    into ``result_error[key]``.
    """

    def __init__(self, code: str, description: str, status: int = 400, **extra: Any) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.status = status
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "error_description": self.description, **self.extra}


@dataclass(frozen=True)
class Auth:
    """Who is calling: an OAuth token of an app, or an incoming webhook."""

    kind: str  # "oauth" | "webhook"
    user_id: int
    scopes: frozenset[str]
    client_id: str | None = None  # app client_id for OAuth calls
    webhook_code: str | None = None  # webhook secret code for webhook calls
    is_admin: bool = True

    @property
    def is_app(self) -> bool:
        return self.kind == "oauth"

    @property
    def limiter_key(self) -> str:
        """Key of the per-method operating-time budget (app client_id or webhook id)."""
        return f"app:{self.client_id}" if self.kind == "oauth" else f"hook:{self.webhook_code}"


@dataclass
class Call:
    """One REST call as a method function sees it.

    ``params`` is the merged query + body with ``auth`` removed, PHP bracket keys already
    decoded into nested dicts/lists. Top-level key lookups that the real portal treats
    case-insensitively go through :meth:`param`.
    """

    portal: Portal
    auth: Auth
    method: str  # lower-case method name
    params: dict[str, Any]
    in_batch: bool = False

    def param(self, name: str, default: Any = None) -> Any:
        """Case-insensitive top-level parameter lookup (legacy CRM/bizproc/event methods)."""
        if name in self.params:
            return self.params[name]
        lowered = name.lower()
        for key, value in self.params.items():
            if isinstance(key, str) and key.lower() == lowered:
                return value
        return default

    def require(
        self, name: str, *, code: str = "ERROR_ARGUMENT", description: str | None = None
    ) -> Any:
        """A required parameter, or the documented argument error."""
        value = self.param(name)
        if value is None or value == "" or value == [] or value == {}:
            raise (
                RestError(
                    code,
                    description or f"Argument '{name}' is null or empty",
                    argument=name,
                )
                if code == "ERROR_ARGUMENT"
                else RestError(code, description or f"Parameter '{name}' is required")
            )
        return value


@dataclass
class ListPage:
    """A page of a list method: ``result`` plus the envelope's ``total`` and ``next``.

    ``next`` is omitted from the envelope when it is None; ``total`` when it is None.
    """

    result: Any
    total: int | None = None
    next: int | None = None
    counted_rows: int = 0  # rows the method had to count for ``total`` (cost model input)


MethodFn = Callable[[Call], Any]


@dataclass(frozen=True)
class MethodSpec:
    name: str  # lower-case
    fn: MethodFn
    scope: str | None  # None = available to everyone (basic)
    app_only: bool = False  # webhook -> 403 WRONG_AUTH_TYPE
    admin_only: bool = False
    batchable: bool = True
    cost: float = 0.001  # nominal operating seconds per call (cost model may add to it)
    tags: tuple[str, ...] = field(default_factory=tuple)


METHODS: dict[str, MethodSpec] = {}


def method(
    name: str,
    *,
    scope: str | None,
    app_only: bool = False,
    admin_only: bool = False,
    batchable: bool = True,
    cost: float = 0.001,
) -> Callable[[MethodFn], MethodFn]:
    """Register ``fn`` as REST method ``name`` (stored lower-case)."""

    def register(fn: MethodFn) -> MethodFn:
        key = name.lower()
        if key in METHODS:
            raise RuntimeError(f"REST method {name} registered twice")
        METHODS[key] = MethodSpec(key, fn, scope, app_only, admin_only, batchable, cost)
        return fn

    return register


def lookup(name: str) -> MethodSpec | None:
    return METHODS.get(name.lower())
