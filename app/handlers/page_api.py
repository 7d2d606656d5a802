"""Authentication of our pages' JSON APIs: the page bearer (``app.widgets._viewer``).

A page rendered in a portal frame calls ``/pages/<member_id>/…`` with
``Authorization: Bearer p1.…``. :func:`page_api` checks it against the installation's
page key (``app.widgets._viewer.page_key``: derived from its stored application token and a
server-only secret; constant time, unexpired, this portal only) and, for
``admin=True``, that the viewer is a portal administrator — anything that changes the
installation or cancels the app's work needs one. The route then reads ``g.viewer``
(:class:`app.widgets._viewer.Viewer`) and ``g.member_id``. Refusals are JSON with a readable
``error`` in the page's language (``?lang=en``), never a traceback.

Everything under ``/pages/`` and ``/imports/`` is such an API, and ``/booking/`` and
``/objects/`` are the JSON APIs of the older widget pages (:data:`JSON_APIS`), so this module's ``bp`` makes the
app answer there as the pages expect: an unknown path, a wrong method or a crash is a
JSON ``error`` (the page's script shows ``error``; an HTML error page would be a "JSON parse"
failure), and no answer is cached by the browser or sniffed into another type.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, g, jsonify, request
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from app.handlers import services
from app.objects.access import key_of
from app.widgets._gate import MEMBER_ID
from app.widgets._viewer import verify_bearer

JSON_APIS = ("/pages/", "/imports/", "/booking/", "/objects/")
bp = Blueprint("page_api", __name__)


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
            who = None
            if MEMBER_ID.match(member_id):  # nothing unlike a member id reaches the store
                try:
                    key = key_of(services(), member_id)
                except RedisError:  # no client secret: the key's seed lives in Redis
                    return refuse(
                        503,
                        "Сервис временно недоступен, попробуйте через минуту",
                        "The service is briefly unavailable; try again in a minute",
                    )
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


_ERRORS = {
    404: ("Нет такого адреса", "No such address"),
    405: ("Этот адрес так не вызывают", "Method not allowed here"),
    500: ("Внутренняя ошибка, попробуйте позже", "Internal error; try again later"),
    503: (
        "Сервис временно недоступен, попробуйте через минуту",
        "The service is briefly unavailable; try again in a minute",
    ),
}


def _json_error(exc: HTTPException):
    """Our pages' APIs answer errors as JSON; every other path keeps Flask's answer."""
    if not request.path.startswith(JSON_APIS):
        return exc
    ru, en = _ERRORS[exc.code or 500]
    return refuse(exc.code or 500, ru, en)


for _code in _ERRORS:
    bp.app_errorhandler(_code)(_json_error)


@bp.after_app_request
def _no_store(response):
    """A page API's answer names people and deals: never cached; its type is as declared."""
    if request.path.startswith(JSON_APIS):
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
    return response
