"""WSGI entry: ``gunicorn wsgi:app`` and ``flask --app wsgi b24 ...``.

A bad configuration stops here with the settings' own message (every bad value, one per
line) and exit code 2, not an import traceback.
"""

import sys

from app.web import create_app
from config.settings import SettingsError

try:
    app = create_app()
except SettingsError as exc:
    print(f"Error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
