"""WSGI entry: ``gunicorn wsgi:app`` and ``flask --app wsgi b24 ...``.

On a store the code does not fit, the web process stops with one line (no traceback):
``store is at revision X, code needs Y: run flask --app wsgi b24 db upgrade``.
"""

import sys

from app.store.migrate import StoreNotReady
from app.web import create_app

try:
    app = create_app()
except StoreNotReady as exc:
    print(f"web refusing to start: {exc}", file=sys.stderr, flush=True)
    # gunicorn treats exit code 3 as "worker failed to boot" and stops instead of respawning
    sys.exit(3)
