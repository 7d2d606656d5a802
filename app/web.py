"""The web composition root: :func:`create_app`.

Builds Settings (from the environment unless given) and Services (unless given), stores them
at ``app.extensions["services"]``, configures logging, and registers every blueprint found in
``app.handlers`` (any module exposing ``bp``) plus the ``b24`` CLI group.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import time

from flask import Flask, g, request

from config.settings import Settings

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, services=None, *, check_store: bool | None = None
) -> Flask:
    """The Flask app. Tests pass ``services``; production builds them from the environment.

    ``check_store`` (default: on, except while the ``flask`` CLI loads the app, where the
    ``b24`` group checks per command so ``b24 db upgrade`` can run) refuses to build the app
    on a store whose schema is not the code's: ``StoreNotReady`` with one line to act on.
    """
    from app.services import Services
    from config.logging import configure_logging

    if services is not None:
        settings = services.settings
    settings = settings or Settings.from_env()
    configure_logging(settings)
    services = services or Services(settings)
    if check_store is None:
        import click

        check_store = click.get_current_context(silent=True) is None
    if check_store:
        from app.store.migrate import require_current

        require_current(services.engine)

    app = Flask("app")
    _trust_proxies(app, settings.trusted_proxies)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.extensions["services"] = services
    app.extensions["settings"] = settings
    app.extensions["started_at"] = time.time()  # /healthz: workers get a start-up grace
    for bp in discover_blueprints():
        app.register_blueprint(bp)
    _register_cli(app)
    _instrument(app)
    _store_errors(app)
    return app


def _trust_proxies(app: Flask, count: int) -> None:
    """Behind ``count`` reverse proxies, take the client's address and scheme from the
    last ``count`` X-Forwarded-For / -Proto entries those proxies appended.

    Without it every request has the proxy's address and the per-client rate limit
    (``app.ratelimit``) becomes one bucket for everybody. With ``count`` = 0 nothing is
    read from headers: anyone can send X-Forwarded-For, so it is believed only as far as
    the operator says proxies really stand in front. The host is not taken from headers:
    handler URLs come from APP_BASE_URL.
    """
    if count <= 0:
        return
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


def _store_errors(app: Flask) -> None:
    """A store error (down, or not migrated) answers 503 with a short text, never a page or a
    traceback: the portal and the operator see "try again later", the log has the cause."""
    from sqlalchemy.exc import SQLAlchemyError

    @app.errorhandler(SQLAlchemyError)
    def _store_unavailable(exc):
        cause = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0][:200]
        log.error("store error on %s %s: %s", request.method, request.path, cause)
        from app.handlers.page_api import JSON_APIS

        if request.path.startswith(JSON_APIS):  # the pages' scripts read {"error"}
            return {"error": "store unavailable, try again later"}, 503
        return "store unavailable, try again later", 503, {"Content-Type": "text/plain"}


def discover_blueprints() -> list:
    """Every ``bp`` attribute of a module directly under ``app.handlers``, sorted by module."""
    import app.handlers as package

    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"app.handlers.{info.name}")
        bp = getattr(module, "bp", None)
        if bp is not None:
            found.append(bp)
    return found


def _register_cli(app: Flask) -> None:
    from app.cli import make_group

    app.cli.add_command(make_group())


def _instrument(app: Flask) -> None:
    from app.metrics import HTTP_LATENCY, HTTP_REQUESTS

    @app.before_request
    def _start_timer():
        g._t0 = time.perf_counter()

    @app.after_request
    def _count(response):
        endpoint = request.endpoint or "unknown"
        HTTP_REQUESTS.labels(endpoint, str(response.status_code)).inc()
        started = g.get("_t0")
        if started is not None:
            HTTP_LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        return response
