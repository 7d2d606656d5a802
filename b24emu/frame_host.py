"""The portal page a browser sees around an app frame, and a stand-in for the BX24 library.

A real portal renders the app inside an ``<iframe>`` and fills it with a form POST (§3.2 of
docs: the frame form carries ``AUTH_ID``, ``member_id``, ``PLACEMENT``, ``PLACEMENT_OPTIONS``
…; ``DOMAIN``/``LANG``/``APP_SID`` in the query). ``GET /_emu/apps/<client_id>/frame`` does
the same for a browser test: it answers a host page whose hidden form is submitted into the
iframe on load, so the app's page runs in a real browser exactly as it would in the portal.

The pages talk to the portal through the BX24 JS library (``BX24.init``, ``fitWindow``,
``resizeWindow``, ``installFinish``, ``placement.info``, ``getAuth``, ``refreshAuth``,
``getLang``, ``isAdmin``; api-reference/widgets/ui-interaction/… and sdk/bx24-js-sdk/ in
bitrix24/b24restdocs). The real library is served by the vendor
(``//api.bitrix24.com/api/v1/``) and talks to the parent window with ``postMessage``.
``GET /_emu/bx24.js`` is our own small implementation of that documented subset: it reads
its data from the frame's host page through ``postMessage`` (the frame is on the app's
origin, the host page on the emulator's: ``init`` asks for it, ``refreshAuth`` for a new
token pair, which the host page gets from the emulator's token endpoint) and posts
``resize`` / ``installFinish`` messages, which the host page applies (height) or turns into
the emulator's install-finish (``ONAPPINSTALL`` goes out). An app is told to load it
through its own setting (``BX24_JS_URL``); nothing of it is the vendor's code.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from b24emu import apps
from b24emu.auth import is_admin
from b24emu.state import Portal

HOST_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{margin:0;font:13px Arial,sans-serif;background:#eef2f4}}
#portal-bar{{background:#2fc6f6;color:#fff;padding:8px 16px}}
#app-frame{{display:block;width:100%;height:{height}px;border:0;background:#fff}}
</style></head>
<body>
<div id="portal-bar">{domain} · {placement}</div>
<iframe id="app-frame" name="app-frame"></iframe>
<form id="frame-form" method="post" target="app-frame" action="{action}">{inputs}</form>
<script>
window.B24EMU = {info};
// the token's lifetime (s) becomes the moment it expires (ms), as BX24.getAuth reports it
window.B24EMU.auth.expires_in = Date.now() + window.B24EMU.auth.expires_in * 1000;
function answerFrame(target) {{ target.postMessage({{bx24: "info", info: window.B24EMU}}, "*"); }}
window.addEventListener("message", function (ev) {{
  var m = ev.data || {{}};
  var frame = document.getElementById("app-frame");
  if (m.bx24 === "init") {{ answerFrame(ev.source); }}
  if (m.bx24 === "refreshAuth") {{
    // the portal issues the frame's user a new pair (the emulator's token endpoint)
    fetch("/_emu/apps/" + encodeURIComponent(window.B24EMU.clientId) + "/tokens",
          {{method: "POST", headers: {{"Content-Type": "application/json"}},
           body: JSON.stringify({{user_id: window.B24EMU.userId}})}})
      .then(function (r) {{ return r.json(); }})
      .then(function (t) {{
        var a = window.B24EMU.auth;
        a.access_token = t.access_token; a.refresh_token = t.refresh_token;
        a.expires_in = Date.now() + Number(t.expires_in || 3600) * 1000;
        answerFrame(ev.source);
      }});
  }}
  if (m.bx24 === "resize" && m.height > 0) {{ frame.style.height = m.height + "px"; }}
  if (m.bx24 === "installFinish") {{
    fetch("/_emu/apps/" + encodeURIComponent(window.B24EMU.clientId) + "/finish_install",
          {{method: "POST", headers: {{"Content-Type": "application/json"}}, body: "{{}}"}})
      .then(function () {{ document.body.setAttribute("data-install-finished", "1"); }});
  }}
}});
document.getElementById("frame-form").submit();
</script>
</body></html>
"""

BX24_JS = r"""/* b24emu's stand-in for the BX24 JS library (documented subset, our own code). */
(function () {
  // The host page (the "portal") is on the emulator's origin and the app's frame on the
  // app's, so, as with the real library, everything goes through postMessage: init asks
  // the host for the frame's data, refreshAuth for a new token pair.
  var host = {}, ready = false, waiting = [], refreshing = [];
  try { host = window.parent.B24EMU || {}; ready = !!host.auth; } catch (e) { host = {}; }
  function post(msg) { try { window.parent.postMessage(msg, "*"); } catch (e) {} }
  function later(cb, value) { if (typeof cb === "function") { setTimeout(function () { cb(value); }, 0); } }
  function copy(a) { return a ? JSON.parse(JSON.stringify(a)) : false; }
  window.addEventListener("message", function (ev) {
    var m = ev.data || {};
    if (ev.source !== window.parent || m.bx24 !== "info" || !m.info) { return; }
    host = m.info; ready = true;
    waiting.splice(0).forEach(function (cb) { later(cb); });
    refreshing.splice(0).forEach(function (cb) { later(cb, copy(host.auth)); });
  });
  function height() {
    // the content's own height: the document's scrollHeight never falls below the frame's
    var b = document.body;
    if (!b) { return 0; }
    var style = window.getComputedStyle(b);
    return Math.ceil(b.getBoundingClientRect().height + parseFloat(style.marginTop) +
                     parseFloat(style.marginBottom));
  }
  window.BX24 = {
    init: function (cb) {
      if (ready) { later(cb); return; }
      waiting.push(cb); post({bx24: "init"});
      // a host page that never answers (opened outside the emulator): go on without data
      setTimeout(function () { if (!ready) { ready = true; waiting.splice(0).forEach(later); } }, 2000);
    },
    fitWindow: function (cb) { post({bx24: "resize", height: height()}); later(cb); },
    resizeWindow: function (w, h, cb) { post({bx24: "resize", height: h}); later(cb); },
    installFinish: function () { post({bx24: "installFinish"}); },
    // sdk/bx24-js-sdk/system-functions/bx24-get-auth.md: expires_in is the moment the token
    // expires in ms since the epoch; an expired token gives false
    getAuth: function () {
      var a = host.auth;
      return a && a.access_token && Date.now() < a.expires_in ? copy(a) : false;
    },
    // bx24-refresh-auth.md: a new access/refresh pair, passed to the callback
    refreshAuth: function (cb) { if (typeof cb === "function") { refreshing.push(cb); } post({bx24: "refreshAuth"}); },
    getLang: function () { return host.lang || "ru"; },
    getDomain: function () { return host.domain || ""; },
    isAdmin: function () { return !!host.isAdmin; },
    placement: {
      info: function () { return {placement: host.placement, options: host.options || {}}; }
    }
  };
})();
"""


def _frame_target(portal: Portal, app: Any, placement: str, url: str | None) -> str:
    """The URL the portal posts the frame form to, as ``open_app`` chooses it."""
    if url:
        return url
    if placement == "DEFAULT":
        if not app.handler_url:
            raise web.HTTPNotFound(text="app has no handler URL")
        return app.handler_url
    if not app.installed:
        raise web.HTTPConflict(text="widgets are hidden until the installation is finished")
    bound = [
        p
        for p in portal.core.placements
        if p.client_id == app.client_id and p.placement == placement
    ]
    if not bound:
        raise web.HTTPNotFound(text=f"placement {placement} not bound")
    return bound[0].handler


def _json_object(raw: str | None, name: str) -> dict | None:
    """A query parameter holding a JSON object (the placement's options), or a 400 naming it:
    a tester's typo must read as such, not as the emulator crashing."""
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} is not valid JSON: {raw[:80]!r}") from None
    if not isinstance(value, dict):
        raise web.HTTPBadRequest(text=f"{name} must be a JSON object")
    return value


def host_page(portal: Portal, client_id: str, query: dict[str, str]) -> str:
    """The host page for ``client_id`` opened at ``query['placement']`` by ``user_id``.

    Query: ``placement`` (default ``DEFAULT``), ``options`` (JSON of PLACEMENT_OPTIONS),
    ``user_id`` (default 1), ``handler`` (choose among several handlers bound to one
    placement by the end of their URL, e.g. ``measurement``), ``lang``, ``height``,
    ``install=1`` (open the installer URL as an admin starting the installation does)."""
    app = portal.core.apps.get(client_id)
    if app is None:
        raise web.HTTPNotFound(text=f"no app {client_id}")
    placement = (query.get("placement") or "DEFAULT").upper()
    options = _json_object(query.get("options"), "options")
    try:
        user_id = int(query.get("user_id") or 1)
    except ValueError:
        raise web.HTTPBadRequest(text="user_id must be a number") from None
    if query.get("install") in ("1", "Y", "true"):
        # the admin clicked "install": the installer page opens in the frame and its own
        # BX24.installFinish() (a postMessage to this page) finishes the installation
        if not app.installer_url:
            raise web.HTTPNotFound(text="app has no installer URL")
        apps.begin_install(portal, client_id, user_id)
        target = app.installer_url
    else:
        target = _frame_target(portal, app, placement, None)
    if query.get("handler"):
        matches = [
            p.handler
            for p in portal.core.placements
            if p.client_id == app.client_id
            and p.placement == placement
            and p.handler.rstrip("/").endswith("/" + query["handler"])
        ]
        if not matches:
            raise web.HTTPNotFound(text=f"no handler {query['handler']} on {placement}")
        target = matches[0]
    form_query, body = apps.frame_form(portal, app, user_id, placement, options)
    if query.get("lang"):
        form_query["LANG"] = query["lang"]
    sep = "&" if "?" in target else "?"
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in body.items()
    )
    info = {
        "clientId": client_id,
        "domain": portal.domain,
        "lang": form_query["LANG"],
        "placement": placement,
        "options": options or {},
        "isAdmin": is_admin(portal, user_id),
        "userId": user_id,
        "auth": {
            "access_token": body["AUTH_ID"],
            "refresh_token": body["REFRESH_ID"],
            "expires_in": int(body["AUTH_EXPIRES"]),
            "domain": portal.domain,
            "member_id": body["member_id"],
        },
    }
    return HOST_PAGE.format(
        lang=html.escape(form_query["LANG"]),
        title=html.escape(f"{portal.domain} — {placement}"),
        height=int(query.get("height") or 900),
        domain=html.escape(portal.domain),
        placement=html.escape(placement),
        action=html.escape(f"{target}{sep}{urlencode(form_query)}"),
        inputs=inputs,
        # "</" would end the <script> early: JSON allows "<\/"
        info=json.dumps(info, ensure_ascii=False).replace("</", "<\\/"),
    )
