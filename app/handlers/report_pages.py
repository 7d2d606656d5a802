"""The reports page's APIs (``app.widgets.reports``), guarded by the page bearer.

``GET /pages/<member_id>/reports/<name>?since=&until=&manager=&pipeline=&lang=`` → JSON: the
report's tables (filtered, see ``app.reports.filters``), the manager and pipeline choices, and
SVG charts
(``app.reports.charts``). ``GET /pages/<member_id>/reports/<name>/csv?…`` → the same tables
as a CSV download (``app.reports.export``).

Reading a report changes nothing, so any portal user who opened the page may call them
(``page_api(admin=False)``): the reports menu is where heads of sales work, and they are
rarely portal admins. A report of a playbook not installed on the portal is a 404, a bad
filter a 400 with the message the page shows; data comes only from the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.handlers import services
from app.handlers.page_api import page_api, refuse
from app.ratelimit import guard
from app.reports import REPORTS, ReportSpec, Table, build, headings
from app.reports import charts as report_charts
from app.reports.export import to_csv
from app.reports.filters import (
    AS_OF,
    NO_PERIOD,
    FilterError,
    Period,
    applicable,
    by_manager,
    people_in,
    period,
    pipeline,
    title,
)
from app.reports.pipelines import Pipeline, deal_pipelines
from app.store import installations

bp = Blueprint("report_pages", __name__)
# each call builds a whole report from the store: a page (or a script holding its bearer)
# reloading in a loop gets 429s, not the store's full attention
bp.before_request(guard("pages"))


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "ru"


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


class _Refusal(Exception):
    def __init__(self, status: int, ru: str, en: str) -> None:
        super().__init__(en)
        self.status, self.ru, self.en = status, ru, en


@dataclass(frozen=True)
class _Built:
    """A report as the request's filters made it."""

    spec: ReportSpec
    when: Period
    tables: list[tuple[Table, bool]]  # (table, split by manager?)
    managers: list[str]
    manager: str
    pipelines: list[Pipeline]
    pipeline: int | None


def _report(member_id: str, name: str) -> _Built:
    """The report for the request's filters; a refusal as :class:`_Refusal`."""
    from app.widgets.automation import portal_people

    lang = _lang()
    with services().session() as session:
        row = installations.get(session, member_id)
        playbooks = (row.playbooks if row else None) or services().settings.playbooks
        spec = REPORTS.get(name)
        if spec is None or spec not in applicable(playbooks):
            raise _Refusal(
                404,
                "Такого отчёта нет среди установленных сценариев",
                "No such report among the installed playbooks",
            )
        # the portal's clock, else its playbooks' time_zone setting (as every page shows it)
        zone = portal_people(session, member_id).zone
        choices = deal_pipelines(session, member_id, lang)
        try:
            when = period(
                name, request.args.get("since", ""), request.args.get("until", ""), zone, lang
            )
            # checked for every report: a stale or forged id is refused, not silently «all»
            chosen = pipeline(request.args.get("pipeline", ""), choices, lang)
        except FilterError as exc:
            raise _Refusal(400, str(exc), str(exc)) from None
        category = chosen if spec.by_pipeline else None
        tables = build(
            name, session, member_id, since=when.since, until=when.until, category=category
        )
    manager = (request.args.get("manager") or "").strip()
    return _Built(
        spec, when, by_manager(tables, manager), people_in(tables), manager, choices, chosen
    )


@bp.get("/pages/<member_id>/reports/<name>")
@page_api(admin=False)
def report_json(member_id: str, name: str):
    """The report as JSON for the page (tables, manager choices, charts)."""
    try:
        built = _report(member_id, name)
    except _Refusal as exc:
        return refuse(exc.status, exc.ru, exc.en)
    spec, when, tables = built.spec, built.when, built.tables
    lang = _lang()
    charts = []
    for chart in report_charts.CHARTS.get(name, ()):
        if chart.table >= len(tables):
            continue
        table = tables[chart.table][0]
        markup = report_charts.svg(chart, table, headings.table_title(table.title, lang))
        if markup:
            marks = len(report_charts.points(chart, table))
            charts.append({"table": chart.table, "kind": chart.kind, "marks": marks, "svg": markup})
    return jsonify(
        {
            "report": name,
            "title": title(spec, lang),
            "period": {
                "since": when.first_day,
                "until": when.last_day,
                "applies": name not in NO_PERIOD,
                "as_of": name in AS_OF,
            },
            "manager": built.manager,
            "managers": built.managers,
            "pipeline": "" if built.pipeline is None else str(built.pipeline),
            "pipelines": [{"id": str(p.id), "name": p.name} for p in built.pipelines],
            "by_pipeline": spec.by_pipeline,
            "tables": [
                {
                    "title": headings.table_title(t.title, lang),
                    "columns": list(t.columns),
                    "headers": [headings.column(c, lang) for c in t.columns],
                    "rows": [[_json_value(v) for v in row] for row in t.rows],
                    "note": headings.note(t.note, lang),
                    "by_manager": filtered,
                }
                for t, filtered in tables
            ],
            "charts": charts,
        }
    )


@bp.get("/pages/<member_id>/reports/<name>/csv")
@page_api(admin=False)
def report_csv(member_id: str, name: str):
    """The report's (filtered) tables as a CSV download, UTF-8 with BOM."""
    try:
        built = _report(member_id, name)
    except _Refusal as exc:
        return refuse(exc.status, exc.ru, exc.en)
    when, tables = built.when, built.tables
    days = "_".join(d for d in (when.first_day, when.last_day) if d) or "all"
    lang = _lang()
    body = to_csv([headings.localized(t, lang) for t, _ in tables], lang)
    return Response(
        body,
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}_{days}.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
