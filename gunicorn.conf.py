"""Gunicorn settings for the web process (read from the working directory by default: both
``app/devrun.py`` and ``bench/events_inbox.py`` start gunicorn in the repository root).

Why these values (measured with ``bench/events_inbox.py`` on a 2-core machine):

* ``gthread`` with keep-alive: a portal (and a reverse proxy) reuses its connection, so a
  request does not pay a TCP handshake and a fresh socket per event; the sync worker closes
  the connection after every response.
* 4 threads a worker: a request waits on Redis or SQLite for part of its time; a few threads
  keep the worker's CPU busy without contending hard for the GIL.
* Worker count comes from the command line (``GUNICORN_WORKERS`` in devrun), default 2.

Command-line flags override anything here.
"""

import os

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
keepalive = 75  # seconds: longer than typical proxy/client idle timeouts, so they close first
timeout = 30
graceful_timeout = 5
# the access log prints query strings: scrub tokens like the app's own logs (app/weblog.py)
logger_class = "app.weblog.RedactingGunicornLogger"
