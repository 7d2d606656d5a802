"""Core-owned state of a portal: apps, tokens, webhooks, bindings, offline queue, robots, logs.

Plain dataclasses so the whole thing pickles (``--state FILE``). Mutated only on the server's
event loop thread; tests may read it from other threads (white-box assertions).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from b24emu.config import EmuConfig

ALL_SCOPES = (
    "basic",
    "crm",
    "bizproc",
    "task",
    "tasks",
    "im",
    "imopenlines",
    "imbot",
    "user",
    "user_brief",
    "user_basic",
    "department",
    "placement",
    "entity",
    "userfieldconfig",
    "catalog",
    "disk",
    "lists",
    "sonet_group",
    "telephony",
)


@dataclass
class App:
    """A registered application (local or marketplace)."""

    id: int
    client_id: str
    client_secret: str
    scopes: list[str]
    version: int = 1
    handler_url: str | None = None  # main page (frame POST target)
    installer_url: str | None = None  # UI installer page (needs installFinish)
    install_event_url: str | None = None  # API-only app: ONAPPINSTALL handler
    redirect_uri: str | None = None
    code: str | None = None
    installed: bool = False  # installFinish done (events/placements gated on it)
    present: bool = False  # install started and not uninstalled
    installing_user: int = 1
    application_token: str | None = None
    token_generation: int = 0
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Token:
    access_token: str
    refresh_token: str
    client_id: str
    user_id: int
    scopes: list[str]
    issued_at: float
    expires_at: float
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    client_id: str
    user_id: int
    scopes: list[str]
    expires_at: float
    used: bool = False


@dataclass
class Webhook:
    code: str
    user_id: int
    scopes: list[str]
    expires_at: float | None = None


@dataclass
class Binding:
    id: int
    client_id: str | None  # None = outgoing webhook (no app)
    event: str  # UPPER
    handler: str | None
    auth_type: int = 0
    offline: bool = False
    connector_id: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    application_token: str | None = None  # outgoing webhooks carry their own token
    last_offline_notify: float = 0.0


@dataclass
class OfflineRow:
    id: int
    client_id: str
    timestamp: float
    message_id: str
    event_name: str
    event_data: Any
    additional: dict[str, Any] | None
    connector_id: str = ""
    process_id: str = ""
    error: bool = False
    gone: bool = False  # removed from the queue (the upsert index may still point at it)


@dataclass
class Robot:
    client_id: str
    code: str
    is_robot: bool
    handler: str
    auth_user_id: int
    use_subscription: bool
    name: Any
    description: Any = None
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    return_properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    document_type: list[str] | None = None
    filter: dict[str, Any] | None = None
    use_placement: bool = False
    placement_handler: str | None = None


@dataclass
class RobotPlacement:
    """A robot put on a stage in the automation designer (done through /_emu/)."""

    id: int
    entity_type_id: int
    category_id: int | None
    stage_id: str
    client_id: str
    code: str
    properties: dict[str, Any] = field(default_factory=dict)
    timeout: int = 0  # seconds; 0 = wait forever


@dataclass
class RobotRun:
    id: int
    placement_id: int
    client_id: str
    code: str
    entity_type_id: int
    item_id: int
    workflow_id: str
    event_token: str
    started_at: float
    timeout: int
    use_subscription: bool
    return_properties: dict[str, dict[str, Any]]
    status: str = "running"  # running | completed | timeout | failed
    return_values: dict[str, Any] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    finished_at: float | None = None
    delivery_id: int | None = None


@dataclass
class Placement:
    client_id: str
    placement: str
    handler: str
    title: str = ""
    description: str = ""
    group_name: str = ""
    lang_all: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    user_id: int = 0


@dataclass
class Delivery:
    """One outbound POST (event, robot, installer/frame), with the exact body sent."""

    id: int
    kind: str  # event | robot | install | frame
    url: str
    name: str  # event name / robot code / placement
    body: str  # form-encoded body exactly as posted
    fields: list[tuple[str, str]]
    created_at: float
    status: str = "pending"  # pending | delivered | failed | dropped
    http_status: int | None = None
    error: str | None = None
    response_text: str | None = None
    client_id: str | None = None


@dataclass
class CoreState:
    config: EmuConfig
    apps: dict[str, App] = field(default_factory=dict)  # by client_id
    tokens: dict[str, Token] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    auth_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    bindings: list[Binding] = field(default_factory=list)
    offline: list[OfflineRow] = field(default_factory=list)
    # upsert index: (message_id, client_id, connector_id) → the unreserved row, if still live
    offline_keys: dict[tuple[str, str, str], OfflineRow] = field(default_factory=dict)
    robots: dict[tuple[str, str], Robot] = field(default_factory=dict)  # (client_id, CODE lower)
    robot_placements: list[RobotPlacement] = field(default_factory=list)
    robot_runs: list[RobotRun] = field(default_factory=list)
    placements: list[Placement] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    request_log: list[dict[str, Any]] = field(default_factory=list)
    http_counts: Counter = field(default_factory=Counter)  # method → HTTP requests
    call_counts: Counter = field(
        default_factory=Counter
    )  # method → executed calls (batch items too)
    user_options: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, Any] = field(default_factory=dict)
    seq: Any = field(default_factory=lambda: itertools.count(1))
    request_log_limit: int = 20000

    def next_id(self) -> int:
        return next(self.seq)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["seq"] = next(self.seq)  # itertools.count does pickle, but keep it explicit
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        start = state.pop("seq")
        self.__dict__.update(state)
        self.__dict__.setdefault("offline_keys", {})
        self.seq = itertools.count(start)
