"""``POST /widgets/<code>``: the page a Bitrix24 placement (CRM tab, menu) shows in its frame.

The portal POSTs the §3.2 frame form. Steps: parse → the installation (``member_id`` known
and active, ``DOMAIN`` = the stored domain, else 403) → authenticate (a posted
APPLICATION_TOKEN must match AND the AUTH_ID is proved — cached — else 401; see
``app.widgets._gate``) → the widget must belong to a playbook installed on that portal (else
404) → PLACEMENT_OPTIONS and the record ID (else 400) → the page module renders from the
store/mirror only. No portal call while rendering.

Every answer is an HTML page in the viewer's language, framable only by the stored portal
(``Content-Security-Policy: frame-ancestors``), never cached, never a stack trace.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, request
from markupsafe import Markup
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from app.handlers import services as current_services
from app.objects import access
from app.ratelimit import guard
from app.widgets import WidgetContext, WidgetError, render, renderer
from app.widgets import _gate as gate
from app.widgets._ownership import not_this_process
from app.widgets._viewer import page_key

log = logging.getLogger(__name__)
bp = Blueprint("widgets", __name__)
bp.before_request(guard("widgets"))  # unauthenticated: per-client limit

_CODE = re.compile(r"^[a-z0-9_]{1,64}$")
BEARER_TTL_S = 3600

ERROR_PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font:14px/1.5 "Helvetica Neue",Helvetica,Arial,sans-serif;margin:0;
padding:24px;color:#333}h1{font-size:22px;font-weight:400;margin:0 0 8px}p{color:#828b95}</style></head>
<body><h1>{{ title }}</h1><p>{{ message }}</p></body></html>
"""


def _frame_ancestors(domain: str | None) -> str:
    if not domain:
        return "frame-ancestors 'none'"
    sources = [f"https://{domain}"]
    if request.args.get("PROTOCOL") == "0":  # the emulator and local portals speak http
        sources.append(f"http://{domain}")
    return "frame-ancestors " + " ".join(sources)


def _answer(html: str, status: int, domain: str | None) -> Response:
    resp = Response(str(html), status=status, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = _frame_ancestors(domain)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def _error(exc: WidgetError, lang: str, domain: str | None) -> Response:
    title = {
        400: gate.msg(lang, "Ошибка запроса", "Bad request"),
        401: gate.msg(lang, "Вход не подтверждён", "Not signed in"),
        403: gate.msg(lang, "Доступ запрещён", "Access denied"),
        404: gate.msg(lang, "Виджет не найден", "Widget not found"),
    }.get(exc.status, gate.msg(lang, "Ошибка", "Error"))
    html = render(ERROR_PAGE, lang=lang, title=title, message=str(exc))
    return _answer(html, exc.status, domain)


def _spec(code: str, playbooks, lang: str):
    """(playbook, WidgetSpec) of ``code`` among the installed playbooks, or (None, spec) for
    one of the app's own pages (``app.playbooks.app_widgets``); 404 otherwise."""
    from app.playbooks import NAMES, load
    from app.playbooks.app_widgets import APP_WIDGETS

    for spec in APP_WIDGETS:
        if spec.code == code:
            return None, spec
    for name in playbooks:
        if name not in NAMES:
            continue
        for spec in load(name).widgets:
            if spec.code == code:
                return name, spec
    raise WidgetError(
        gate.msg(
            lang,
            "Этот виджет не входит в установленные сценарии портала",
            "This widget is not part of the playbooks installed on this portal",
        ),
        404,
    )


def _placement(services, member_id: str, template: str, posted: str, lang: str) -> str:
    """The placement the widget is bound to; a posted one must be the same (400)."""
    placement = template
    if "{" in template:
        from app.installers.mapping import resolve

        with services.session() as session:
            naming = resolve(session, member_id)
        for ref in re.findall(r"\{([a-z0-9_.]+)\}", template):
            try:
                placement = placement.replace(f"{{{ref}}}", str(naming.entity_type(ref)))
            except KeyError:
                raise WidgetError(
                    gate.msg(lang, "Виджет ещё не установлен", "The widget is not installed yet"),
                    404,
                ) from None
    if posted and posted.upper() != placement:
        raise WidgetError(
            gate.msg(
                lang,
                f"Этот виджет открывается только в месте {placement}",
                f"This widget opens only in {placement}",
            ),
            400,
        )
    return placement


def _widget_bearer(svc, opener: gate.Opener, lang: str) -> str:
    """The bearer the page's JS calls ``/booking/`` and ``/objects/`` with: signed with the
    portal's server-side page key (``app.objects.access``), never the application token the
    frame form already showed the viewer."""
    if not opener.application_token:
        return ""
    try:
        key = page_key(svc, opener.member_id, opener.application_token)
    except RedisError:  # no client secret: the key's seed is in Redis; "try again", not a 500
        refusal = gate.msg(
            lang, "Сервис временно недоступен, попробуйте через минуту",
            "The service is briefly unavailable; try again in a minute",
        )  # fmt: skip
        raise WidgetError(refusal, 503) from None
    return access.issue(key, opener.member_id, ttl=BEARER_TTL_S)


def _int(raw) -> int:
    text = str(raw or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else 0


@bp.post("/widgets/<code>")
def open_widget(code: str) -> Response:
    """Authenticate the frame POST and render the widget page (see module docstring)."""
    return _open(code)


def is_frame_open(form) -> bool:
    """A portal frame POST (member_id plus the viewer's or the app's token), as opposed to a
    person's browser or a bare POST to the app's address."""
    return bool(form.get("member_id")) and bool(
        form.get("AUTH_ID") or form.get("APPLICATION_TOKEN")
    )


def open_home() -> Response:
    """The app's main frame (placement DEFAULT, ``POST /``): the settings page, authenticated
    exactly like a widget."""
    from app.playbooks.app_widgets import HOME

    limited = guard("widgets")()  # unauthenticated like every widget open: same limit
    return limited or _open(HOME.code, home=HOME)


def _open(code: str, home=None) -> Response:
    svc = current_services()
    lang = gate.lang_of(request.args)
    domain = None
    try:
        if not _CODE.match(code):
            raise WidgetError(gate.msg(lang, "Виджет не найден", "Widget not found"), 404)
        opener = gate.installation(svc, request.form, request.args, lang)
        domain = opener.domain
        gate.authenticate(svc, opener, request.form, lang)
        render_page = renderer(code)
        playbook, spec = (None, home) if home else _spec(code, opener.playbooks, lang)
        if render_page is None:
            raise WidgetError(gate.msg(lang, "Виджет не найден", "Widget not found"), 404)
        posted = str(request.form.get("PLACEMENT") or "")
        placement = _placement(svc, opener.member_id, spec.placement, posted, lang)
        opts = gate.options(request.form, lang)
        ctx = WidgetContext(
            member_id=opener.member_id,
            domain=opener.domain,
            code=code,
            placement=placement,
            record_id=gate.record_id(placement, opts, lang),
            options=opts,
            lang=lang,
            bearer=_widget_bearer(svc, opener, lang),
            services=svc,
            auth_id=str(request.form.get("AUTH_ID") or ""),
            auth_expires=_int(request.form.get("AUTH_EXPIRES")),
        )
        # another playbook's record: one quiet line, not the tab (app.widgets._ownership)
        quiet = not_this_process(ctx, playbook, opener.playbooks) if playbook else None
        html = quiet or render_page(ctx)
    except WidgetError as exc:
        return _error(exc, lang, domain)
    except HTTPException as exc:  # werkzeug's own refusal, e.g. a form past MAX_CONTENT_LENGTH
        refusal = gate.msg(lang, "Некорректный запрос", "Malformed request")
        return _error(WidgetError(refusal, exc.code or 400), lang, domain)
    except Exception:  # noqa: BLE001 - the frame shows a readable page, the log the trace
        log.exception("widget %s failed to render", code)
        failure = WidgetError(
            gate.msg(lang, "Не удалось показать виджет", "The widget could not be shown"), 500
        )
        return _error(failure, lang, domain)
    return _answer(Markup(html), 200, domain)
