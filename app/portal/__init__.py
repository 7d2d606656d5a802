"""The portal gateway: the only code in the app that talks to Bitrix24.

    client = client_for(member_id, services)
    client.call("crm.item.get", {"entityTypeId": 2, "id": 7}, priority="robots")
    client.batch({"a": ("crm.item.get", {...}), "b": ("crm.item.update", {...})})
    for item in client.iter_list("crm.item.list", {"entityTypeId": 2}, id_field="id",
                                 items_key="items", batch_pages=50, progress=bar.update): ...

Priorities, highest first: ``robots`` > ``events`` > ``sync`` > ``bulk``. Errors are
``app.portal.errors`` classes with the Bitrix code kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from app.portal.client import PortalClient
from app.portal.limits import GatewayLimits
from app.portal.results import BatchResult, ListPage
from app.portal.tokens import MemoryTokenStore, RedisTokenStore, TokenStore
from app.portal.transport import Transport

__all__ = [
    "BatchResult",
    "GatewayLimits",
    "ListPage",
    "MemoryTokenStore",
    "PortalClient",
    "RedisTokenStore",
    "TokenStore",
    "client_for",
    "client_from_parts",
]


def client_for(member_id: str, services: Any) -> PortalClient:
    """The gateway client of ``member_id`` built from the app's/worker's ``Services``.

    Uses ``services.token_store`` when present, else an ``SqlTokenStore`` over the session
    factory; hosts are checked against ``app.allowlist`` with ``services.settings``."""
    from app.allowlist import is_allowed_oauth_server, is_allowed_portal

    settings = services.settings
    store = getattr(services, "token_store", None)
    if store is None:
        from app.store.installations import SqlTokenStore

        sessions = next(
            (
                getattr(services, name)
                for name in ("session_factory", "sessions", "session", "Session")
                if getattr(services, name, None) is not None
            ),
            None,
        )
        if sessions is None:
            raise AttributeError("Services has neither token_store nor a session factory")
        store = SqlTokenStore(sessions)
    return PortalClient(
        member_id,
        store,
        services.redis,
        GatewayLimits.from_settings(settings),
        allow_portal=lambda url: is_allowed_portal(url, settings),
        allow_oauth=lambda url: is_allowed_oauth_server(url, settings),
    )


def client_from_parts(
    credentials_source: TokenStore,
    member_id: str,
    redis: Any,
    limits: Any = None,
    *,
    allow_portal: Callable[[str], bool] | None = None,
    allow_oauth: Callable[[str], bool] | None = None,
    transport: Transport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    **limit_overrides: Any,
) -> PortalClient:
    """A client for tests and benches without Services.

    ``limits`` is a :class:`GatewayLimits`, a Settings-like object or None (cloud defaults);
    ``limit_overrides`` replace single fields (``rate_drain=20``). Without ``allow_*``
    callables every host is allowed — production code goes through :func:`client_for`."""
    gateway_limits = GatewayLimits.from_settings(limits, **limit_overrides)
    return PortalClient(
        member_id,
        credentials_source,
        redis,
        gateway_limits,
        transport=transport,
        allow_portal=allow_portal or (lambda url: True),
        allow_oauth=allow_oauth or (lambda url: True),
        sleep=sleep,
    )
