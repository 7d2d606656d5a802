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

from app.widgets._page_js import PAGE_JS

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
    # the JS's token for /booking/ and /objects/ (app.objects.access: page-key signed)
    bearer: str
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
<style>{{ css }}</style>{{ page_js }}</head>
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

# Bitrix24's UI conventions (the portal's own "ui" kit: ui-btn, ui-ctl, ui-alert, ui-tabs),
# written here as our own small stylesheet — no CDN, the frame must work offline. The
# vendor's UI Kit (api-reference/widgets/ui-kit/index.md) is a Vue/Tailwind library that
# needs a build; its design principles (ui-kit/design.md: consistent spacing, colours,
# typography, button shapes, visible focus) are what these rules follow. The bare element
# rules keep the older pages (plain <button>, <table>) in the same look.
CSS = """
body{font:14px/1.5 "Helvetica Neue",Helvetica,Arial,sans-serif;margin:0;padding:18px 20px;
color:#333;background:#fff;-webkit-font-smoothing:antialiased}
h1{font-size:22px;font-weight:400;color:#333;margin:0 0 16px}
h2{font-size:16px;font-weight:600;color:#535c69;margin:22px 0 10px}
h3{font-size:14px;font-weight:600;color:#535c69;margin:16px 0 8px}
a{color:#2067b0;text-decoration:none}a:hover{text-decoration:underline}
table{border-collapse:collapse;width:100%}
td,th{padding:8px 10px;border-bottom:1px solid #edeef0;text-align:left;vertical-align:top}
th{color:#828b95;font-weight:normal;width:35%}
.muted{color:#828b95}.error{color:#c0392b}.ok{color:#2e7d32}
.empty{padding:24px 0;color:#828b95;text-align:center}
.msg{margin:8px 0;min-height:1em}
[hidden]{display:none!important}
button,.ui-btn{display:inline-flex;align-items:center;justify-content:center;height:34px;
padding:0 18px;margin:0 6px 6px 0;border:1px solid #3bc8f5;border-radius:2px;
background:#3bc8f5;color:#fff;font:700 12px/32px "Helvetica Neue",Helvetica,Arial,sans-serif;
text-transform:uppercase;letter-spacing:.2px;cursor:pointer;white-space:nowrap;
transition:background .2s,border-color .2s;vertical-align:middle}
button:hover,.ui-btn:hover{background:#3eddff;border-color:#3eddff}
button.secondary,.ui-btn-light-border{background:#fff;border-color:#c6cdd3;color:#535c69}
button.secondary:hover,.ui-btn-light-border:hover{background:#cfd4d8;border-color:#cfd4d8}
.ui-btn-success{background:#bbed21;border-color:#bbed21;color:#535c69}
.ui-btn-success:hover{background:#d2f95f;border-color:#d2f95f}
.ui-btn-danger{background:#ff5752;border-color:#ff5752;color:#fff}
.ui-btn-danger:hover{background:#ff8480;border-color:#ff8480}
.ui-btn-link{background:none;border-color:transparent;color:#535c69}
.ui-btn-link:hover{background:none;border-color:transparent;color:#333}
.ui-btn-xs{height:26px;line-height:24px;padding:0 10px;font-size:11px}
.ui-btn-sm{height:30px;line-height:28px;padding:0 14px}
button:disabled,.ui-btn:disabled{opacity:.45;cursor:default}
button:focus-visible,.ui-btn:focus-visible{outline:2px solid #2fc6f6;outline-offset:1px}
input,select,textarea{font:14px "Helvetica Neue",Helvetica,Arial,sans-serif;color:#333;
padding:0 10px;height:34px;border:1px solid #c6cdd3;border-radius:2px;background:#fff;
box-sizing:border-box;outline:none;transition:border-color .2s}
textarea{height:auto;min-height:68px;padding:7px 10px;resize:vertical;width:100%;
line-height:1.45}
input[type=checkbox],input[type=radio]{height:auto;padding:0;margin:0 6px 0 0}
input:focus,select:focus,textarea:focus{border-color:#2fc6f6}
input:disabled,select:disabled,textarea:disabled{background:#f5f7f8;color:#828b95}
.ui-ctl-invalid,input.ui-ctl-invalid,textarea.ui-ctl-invalid{border-color:#ff5752}
.ui-table{border:1px solid #e7eaec;margin:0 0 12px}
.ui-table th{width:auto;background:#f5f7f8;color:#535c69;font-size:12px;font-weight:600;
text-transform:uppercase;border-bottom:1px solid #e7eaec}
.ui-table td{border-bottom:1px solid #edeef0}
.ui-table tbody tr:hover td{background:#f9fbfb}
.edit-table td{padding:4px 6px}.edit-table input{width:100%}
.ui-form-row{display:flex;flex-wrap:wrap;align-items:flex-start;padding:10px 0;
border-bottom:1px solid #f0f2f3}
.ui-form-label{flex:0 0 34%;padding:7px 16px 0 0;color:#535c69;box-sizing:border-box}
.ui-form-content{flex:1 1 60%;min-width:240px}
.ui-form-hint{color:#a8adb4;font-size:12px;margin-top:4px}
details.ui-form-hint summary{cursor:pointer;color:#2067b0}
.ui-form-error{color:#d0021b;font-size:13px;margin-top:4px}
.ui-form-error:empty{display:none}
.ui-alert{padding:11px 16px;margin:0 0 14px;border-radius:2px;background:#e5f9ff;
color:#333;border-left:3px solid #2fc6f6}
.ui-alert-success{background:#f1fbd0;border-left-color:#9dcf00}
.ui-alert-warning{background:#fef3b8;border-left-color:#f7a700}
.ui-alert-danger{background:#ffe8e8;border-left-color:#ff5752;color:#a8000e}
.ui-alert:empty{display:none}
.ui-tabs{display:flex;flex-wrap:wrap;border-bottom:1px solid #e7eaec;margin:0 0 18px}
.ui-tab{background:none;border:0;border-bottom:3px solid transparent;border-radius:0;
color:#525c69;height:40px;padding:0 16px;margin:0;font-weight:400;text-transform:none;
font-size:14px}
.ui-tab:hover{background:none;color:#333;border-color:transparent}
.ui-tab.is-active{color:#333;border-bottom-color:#2fc6f6}
.ui-tab-panel{display:none}.ui-tab-panel.is-active{display:block}
.ui-label{display:inline-block;padding:1px 8px;border-radius:10px;font-size:11px;
text-transform:uppercase;font-weight:600;background:#e9edf0;color:#535c69}
.ui-label-success{background:#e4f4b5;color:#5a7400}
.ui-label-danger{background:#ffdcdb;color:#a8000e}
.ui-progress{height:6px;background:#e9edf0;border-radius:3px;overflow:hidden;margin:8px 0}
.ui-progress-bar{height:100%;background:#2fc6f6;width:0;transition:width .3s}
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
        css=Markup(CSS),
        page_js=Markup(PAGE_JS),
    )
