"""``GET /`` and ``GET /install``: a short page a person can read.

A browser opening the app's address (or the installer URL that ``make run`` prints) used to
get a bare 404 or ``405 Method Not Allowed``. These pages say what the app is and how a
portal opens it. They read only the configuration, never the store or a portal, and show
no secret. ``POST /install`` (the portal's installer frame) stays in ``install.py``; this
module registers only GET on that URL. ``POST /`` is the app's main frame (placement
``DEFAULT``, §3.2): a portal frame open (``member_id`` with ``AUTH_ID`` or
``APPLICATION_TOKEN``) is authenticated exactly like a widget and shows the settings page
(``app.widgets.settings``); any other POST gets the same page as ``GET /``.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template_string, request

from app.handlers import services

bp = Blueprint("pages", __name__)


@bp.route("/", methods=["GET", "POST"])
def home() -> Response:
    """What the app is and how a portal opens it; the settings page for a portal frame."""
    if request.method == "POST":
        from app.handlers.widgets import is_frame_open, open_home

        if is_frame_open(request.form):
            return open_home()
    return _page(installer=False)


@bp.get("/install")
def install_page() -> Response:
    """The installer URL in a browser: nothing to install here, say how it is used."""
    return _page(installer=True)


def _page(*, installer: bool) -> Response:
    settings = services().settings
    base = settings.app_base_url  # not the Host header: the page shows the configured URL
    body = render_template_string(
        PAGE,
        installer=installer,
        base=base,
        playbooks=", ".join(settings.playbooks),
        emulator=settings.emulator_address,
    )
    resp = Response(body, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Bitrix24 sales automation</title>
<style>body{font:15px/1.5 sans-serif;max-width:46em;margin:2em auto;padding:0 1em}
code{background:#f3f3f3;padding:0 .3em}</style></head>
<body>
<h1>Bitrix24 sales automation</h1>
{% if installer %}
<p><b>This is the app's installer URL.</b> A Bitrix24 portal posts its installer frame here
when an administrator installs the app; opened in a browser there is nothing to install.</p>
{% endif %}
<p>A Bitrix24 app: it installs a whole sales process into a portal (fields, stages,
pipelines, smart processes, robots, event handlers) and then runs it: routing, duplicate
control, scoring, escalations, cadences, reports. Playbooks for new portals:
<code>{{ playbooks }}</code>.</p>
<h2>How a portal opens it</h2>
<ol>
<li>In the portal, an administrator adds the app (<i>Developer resources → Local
application</i>, or the marketplace) with installer URL <code>{{ base }}/install</code> and
installation event handler <code>{{ base }}/app-events</code>.</li>
<li>The portal opens the installer in its frame; the app checks the portal's token, stores
the installation and sets the playbooks up, then tells the portal it is done.</li>
<li>From then on the portal sends events, robot calls and widget opens to this address.</li>
</ol>
{% if emulator %}
<p>Local portal (b24emu): <a href="http://{{ emulator }}/_emu/info">http://{{ emulator
}}/_emu/info</a>. Operator commands: <code>.venv/bin/flask --app wsgi b24 --help</code>.</p>
{% endif %}
<p><a href="{{ base }}/healthz">Health</a></p>
</body></html>
"""
