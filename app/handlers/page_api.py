"""Authentication of our pages' JSON APIs: the page bearer (``app.widgets._viewer``).

A page rendered in a portal frame calls ``/pages/<member_id>/…`` with
``Authorization: Bearer p1.…``. :func:`page_api` checks it against the installation's
page key (``app.widgets._viewer.page_key``: derived from its stored application token and a
server-only secret; constant time, unexpired, this portal only) and, for
``admin=True``, that the viewer is a portal administrator — anything that changes the
installation or cancels the app's work needs one. The route then reads ``g.viewer``
(:class:`app.widgets._viewer.Viewer`) and ``g.member_id``. Refusals are JSON with a readable
``error`` in the page's language (``?lang=en``), never a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g, jsonify, request

from app.handlers import services
from app.store import installations
from app.widgets._viewer import page_key, verify_bearer


def _msg(ru: str, en: str) -> str:
    return en if request.args.get("lang") == "en" else ru


def refuse(status: int, ru: str, en: str):
    """A JSON refusal the page shows next to the control that caused it."""
    return jsonify({"error": _msg(ru, en)}), status


def page_api(*, admin: bool = False) -> Callable:
    """Decorator for a route with a ``member_id`` path parameter (see module docstring)."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def guarded(member_id: str, *args: Any, **kwargs: Any):
            header = request.headers.get("Authorization", "")
            bearer = header[7:].strip() if header.lower().startswith("bearer ") else ""
            with services().session() as session:
                row = installations.get(session, member_id)
                app_token = row.application_token if row and row.status == "active" else None
            key = page_key(services().redis, member_id, app_token) if app_token else None
            who = verify_bearer(key, member_id, bearer)
            if who is None:
                return refuse(
                    401,
                    "Сессия страницы истекла: откройте её заново",
                    "The page's session has expired: reopen it",
                )
            if admin and not who.admin:
                return refuse(
                    403,
                    "Это может сделать только администратор портала",
                    "Only a portal administrator can do this",
                )
            g.viewer, g.member_id = who, member_id
            return fn(member_id, *args, **kwargs)

        return guarded

    return wrap
