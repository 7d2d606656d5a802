"""Widget pages: what a Bitrix24 placement (CRM tab, menu item) shows in its iframe.

``app.handlers.widgets`` authenticates the portal's POST to ``/widgets/<code>``, builds a
:class:`WidgetContext` and calls the renderer registered for ``code``; the renderer returns
an HTML fragment and usually wraps it with :func:`page`. A page module is one file here::

    from app.widgets import WidgetContext, WidgetError, page, register

    @register("order_timing")
    def render(ctx: WidgetContext) -> str:
        ...
        return page(ctx, "Время по стадиям", body_html)

Rules for renderers: read only the store/mirror (``ctx.services.session()``), never the
portal; build HTML only with Jinja2 autoescaping (:func:`render`), never by string
concatenation of record values; raise :class:`WidgetError` for a readable 4xx page. The
page's JS calls our own APIs with ``Authorization: Bearer <ctx.bearer>``.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

log = logging.getLogger(__name__)
_REGISTRY: dict[str, Callable[[WidgetContext], str]] = {}
_LOADED = False


@dataclass(frozen=True)
class WidgetContext:
    """Everything a renderer may use; built only after the request was authenticated."""

    member_id: str
    domain: str  # the STORED domain of the installation, never the request's
    code: str  # widget code, e.g. "lead_object"
    placement: str  # e.g. "CRM_LEAD_DETAIL_TAB"
    record_id: int | None  # PLACEMENT_OPTIONS["ID"] as int, None for menu placements
    options: Mapping[str, Any]  # parsed PLACEMENT_OPTIONS
    lang: str  # "ru" or "en" (from LANG, default ru)
    bearer: str  # signed token for the widget's JS to call our APIs (app.objects.access.issue)
    services: Any  # app Services (services.session(), services.redis, services.settings)
    # the viewing user's token from the frame form: only app.widgets._viewer uses it, to ask
    # the portal who is looking (never logged, never rendered)
    auth_id: str = field(default="", repr=False)
    auth_expires: int = 0


class WidgetError(Exception):
    """A readable refusal: the handler shows ``str(exc)`` on a page with HTTP ``status``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def register(code: str) -> Callable:
    """Decorator: ``@register("lead_object") def render(ctx) -> str``."""

    def wrap(fn: Callable[[WidgetContext], str]) -> Callable[[WidgetContext], str]:
        if code in _REGISTRY and _REGISTRY[code] is not fn:
            raise ValueError(f"widget {code!r} registered twice")
        _REGISTRY[code] = fn
        return fn

    return wrap


def renderer(code: str) -> Callable | None:
    """The renderer of ``code`` (page modules under app/widgets are imported on first use)."""
    _load_all()
    return _REGISTRY.get(code)


def _load_all() -> None:
    """Import every module of this package once so their ``@register`` calls run."""
    global _LOADED
    if _LOADED:
        return
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        try:
            importlib.import_module(f"{__name__}.{info.name}")
        except Exception:  # noqa: BLE001 - one broken page must not take the others down
            log.exception("widget module %s failed to import; its pages answer 404", info.name)
    _LOADED = True


_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def render(template: str, **values: Any) -> str:
    """Render a Jinja2 template string with autoescaping; the result is safe to embed."""
    return Markup(_env.from_string(template).render(**values))


def t(ctx: WidgetContext, ru: str, en: str) -> str:
    """The text in the viewer's language."""
    return en if ctx.lang == "en" else ru


PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;padding:16px;
color:#333;background:#fff}
h1{font-size:18px;margin:0 0 12px}h2{font-size:15px;margin:16px 0 8px}
table{border-collapse:collapse;width:100%}td,th{padding:6px 8px;border-bottom:1px solid #eef;
text-align:left;vertical-align:top}th{color:#828b95;font-weight:normal;width:35%}
.muted{color:#828b95}.error{color:#c0392b}.ok{color:#2e7d32}.empty{padding:24px 0;color:#828b95}
button{background:#3bc8f5;border:0;color:#fff;padding:6px 14px;border-radius:3px;cursor:pointer}
button.secondary{background:#eef2f4;color:#535c69}button:disabled{opacity:.5}
input,select{padding:4px 6px;border:1px solid #c6cdd3;border-radius:2px}
.msg{margin:8px 0;min-height:1em}
</style></head>
<body data-widget="{{ code }}">
<h1>{{ title }}</h1>
{{ body }}
<script src="{{ bx24_js_url }}"></script>
<script>
window.addEventListener("load",function(){try{if(window.BX24){BX24.init(function(){
BX24.fitWindow();});}}catch(e){}});
</script>
</body></html>
"""


def bx24_js_url(services: Any) -> str:
    """The BX24 library our pages load (``BX24_JS_URL``; the vendor's URL when unset)."""
    settings = getattr(services, "settings", None)
    return getattr(settings, "bx24_js_url", None) or "https://api.bitrix24.com/api/v1/"


def page(ctx: WidgetContext, title: str, body_html: str) -> str:
    """The shared layout. ``title`` is escaped; ``body_html`` must come from :func:`render`
    (or other escaped output) — it is inserted as is."""
    return render(
        PAGE,
        lang=ctx.lang,
        title=title,
        code=ctx.code,
        body=Markup(body_html),
        bx24_js_url=bx24_js_url(ctx.services),
    )
