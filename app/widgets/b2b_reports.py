"""CRM_ANALYTICS_MENU: the b2b reports for a period chosen via ``since``/``until`` params
(GET or POST; ``YYYY-MM-DD``, taken from the request or the placement options). The
period form re-opens the page with the signed bearer the page was rendered with (the
portal's frame form is not re-sent by a plain form submit: it used to answer 403).

Data only from the mirror store; no portal calls.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.reports import REPORTS, build
from app.reports.html import tables_html
from app.widgets import WidgetContext, page, register, render, t

# The form posts back to this URL (DOMAIN, LANG in the query string). It carries what the
# gate needs to know the portal again: member_id, the placement and the page's signed
# bearer (app.objects.access) — never the application token or the user's OAuth tokens.
FORM = """<form method="post">{{ since_l }} <input type="date" name="since" value="{{ since }}">
{{ until_l }} <input type="date" name="until" value="{{ until }}">
<input type="hidden" name="member_id" value="{{ member_id }}">
<input type="hidden" name="PLACEMENT" value="{{ placement }}">
<input type="hidden" name="BEARER" value="{{ bearer }}">
<button type="submit">OK</button></form>"""


def _param(ctx: WidgetContext, name: str) -> str:
    try:
        from flask import has_request_context, request

        if has_request_context() and request.values.get(name):
            return request.values[name]
    except ImportError:  # pragma: no cover - flask is always installed
        pass
    return str(ctx.options.get(name) or "")


def _day(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


@register("b2b_reports")
def render_page(ctx: WidgetContext) -> str:
    since_s, until_s = _param(ctx, "since"), _param(ctx, "until")
    since, until = _day(since_s), _day(until_s)
    body = render(
        FORM,
        since=since_s if since else "",
        until=until_s if until else "",
        since_l=t(ctx, "с", "from"),
        until_l=t(ctx, "по", "until"),
        member_id=ctx.member_id,
        placement=ctx.placement,
        bearer=ctx.bearer,
    )
    with ctx.services.session() as session:
        for name, spec in sorted(REPORTS.items()):
            if spec.playbook != "b2b":
                continue
            tables = build(name, session, ctx.member_id, since=since, until=until)
            body += tables_html(tables, t(ctx, "Нет данных", "No data"))
    return page(ctx, t(ctx, "Отчёты b2b", "b2b reports"), body)
