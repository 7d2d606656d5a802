"""WSGI entry: ``gunicorn wsgi:app`` and ``flask --app wsgi b24 ...``.

A bad configuration stops here with the settings' own message (every bad value, one per
line) and exit code 2, not an import traceback. On a store the code does not fit, the web
process stops with one line (no traceback):
``store is at revision X, code needs Y: run flask --app wsgi b24 db upgrade``.
"""

import sys

from app.store.migrate import StoreNotReady
from app.web import create_app
from config.settings import SettingsError

try:
    app = create_app()
except StoreNotReady as exc:
    print(f"web refusing to start: {exc}", file=sys.stderr, flush=True)
    # gunicorn treats exit code 3 as "worker failed to boot" and stops instead of respawning
    sys.exit(3)
except SettingsError as exc:
    print(f"Error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
