"""Flask blueprints. Every module here exposing a Flask ``bp`` is registered automatically
by ``app.web.create_app`` (pkgutil), so new handlers need no central list.

Handlers authenticate, parse, claim, enqueue and answer; they never call the portal (the one
documented exception is the install verification in ``install.py``). The request's Services
are at ``current_app.extensions["services"]`` (see :func:`services`).
"""

from __future__ import annotations

from typing import Any


def services() -> Any:
    """The Services of the running Flask app."""
    from flask import current_app

    return current_app.extensions["services"]
