"""Serve a Flask (WSGI) app on a real loopback port, for tests where a portal (the emulator)
must POST to the app over HTTP: robot calls, events, install callbacks.

``LiveApp(flask_app)`` starts serving at once in a daemon thread (threaded werkzeug server,
so the emulator's concurrent deliveries are answered concurrently); ``stop()`` shuts the
loop down, closes the listening socket and joins the thread, and is safe to call twice.
When the app's own URL must be known before the app exists (``APP_BASE_URL`` is part of
Services, which the Flask app is built from), take a port with :func:`free_port` first and
pass it in.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server

from b24emu.testing import free_port

__all__ = ["LiveApp", "free_port", "live_app"]


class LiveApp:
    """One WSGI app on ``127.0.0.1:port`` (0 = any free port); ``url`` has no trailing /."""

    def __init__(self, wsgi_app: Any = None, port: int = 0) -> None:
        # ``wsgi_app=None``: the port is taken now and the app mounted later (:meth:`mount`) —
        # for an app whose settings need its own URL. Taking a "free" port first and binding
        # it later races with parallel test processes (EADDRINUSE).
        self._app = wsgi_app
        self.server = make_server("127.0.0.1", port, self._dispatch, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, name=f"live-app-{self.port}", daemon=True
        )
        self._thread.start()
        self._stopped = False

    def _dispatch(self, environ: Any, start_response: Any) -> Any:
        if self._app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"app not mounted yet"]
        return self._app(environ, start_response)

    def mount(self, wsgi_app: Any) -> LiveApp:
        """Serve ``wsgi_app`` on this already-listening port."""
        self._app = wsgi_app
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, finish the loop, release the port."""
        if self._stopped:
            return
        self._stopped = True
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=timeout)

    def __enter__(self) -> LiveApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def live_app(wsgi_app: Any, port: int = 0) -> Iterator[LiveApp]:
    """``with live_app(create_app(services=...)) as server: ... server.url ...``"""
    server = LiveApp(wsgi_app, port)
    try:
        yield server
    finally:
        server.stop()
