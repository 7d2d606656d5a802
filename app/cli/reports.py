"""``flask --app wsgi b24 report <name> --portal M [--since D] [--until D] [--record ID]
[--pipeline ID] [--format table|csv|json]`` — print a report built from the local mirror
store; ``--pipeline`` keeps one deal pipeline's deals (its ``categoryId``: ``0`` is the
default pipeline), as the reports page's filter does, and ``--pipeline list`` prints the
portal's choices.

Unknown report, unknown portal and bad dates exit with code 2 and a readable message.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from app.cli.common import portal_option


def _date(value: str | None, hint: str, zone=UTC) -> datetime | None:
    """Midnight of ``value`` in the portal's time zone (a day is the portal's day)."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=zone)
    except ValueError:
        _fail(f"{hint}: expected YYYY-MM-DD, got {value!r}")


def _fail(message: str):
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def _known_portal(session, member_id: str) -> bool:
    from app.store import installations
    from app.store.mirror import MirrorRecord

    if installations.get(session, member_id) is not None:
        return True
    q = select(MirrorRecord.record_id).where(MirrorRecord.member_id == member_id).limit(1)
    return session.scalar(q) is not None


def _render(tables, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(
            [
                {
                    "title": t.title,
                    "columns": list(t.columns),
                    "rows": [list(r) for r in t.rows],
                    "note": t.note,
                }
                for t in tables
            ],
            ensure_ascii=False,
            default=str,
        )
    out = io.StringIO()
    for t in tables:
        if fmt == "csv":
            out.write(f"# {t.title}\n")
            w = csv.writer(out, lineterminator="\n")
            w.writerow(t.columns)
            w.writerows(t.rows)
        else:
            out.write(f"== {t.title} ==\n")
            out.write("\t".join(t.columns) + "\n")
            for r in t.rows:
                out.write("\t".join("" if v is None else str(v) for v in r) + "\n")
        if t.note:
            out.write(f"# note: {t.note}\n")
        out.write("\n")
    return out.getvalue()


@click.command("report")
@click.argument("name")
@portal_option(strict=False)
@click.option("--since", default=None, help="period start, YYYY-MM-DD (inclusive)")
@click.option("--until", default=None, help="period end, YYYY-MM-DD (exclusive)")
@click.option("--record", "record_id", type=int, default=None)
@click.option(
    "--pipeline",
    default=None,
    help="deal pipeline id (categoryId) for reports split by pipeline; 'list' shows them",
)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@with_appcontext
def report(name, member_id, since, until, record_id, pipeline, fmt) -> None:
    """Print report NAME for one portal and period."""
    from app.people import People
    from app.reports import REPORTS, ReportError, build
    from app.reports.filters import FilterError
    from app.reports.filters import pipeline as chosen_pipeline
    from app.reports.pipelines import deal_pipelines

    if name not in REPORTS:
        _fail(f"unknown report {name!r}; known: {', '.join(sorted(REPORTS))}")
    with current_app.extensions["services"].session() as session:
        if not _known_portal(session, member_id):
            _fail(f"unknown portal {member_id!r}")
        clock = People.load(session, member_id)
        start, end = _date(since, "--since", clock.zone), _date(until, "--until", clock.zone)
        if start and end and start >= end:
            _fail("--since must be before --until")
        choices = deal_pipelines(session, member_id, "en")
        if pipeline == "list":
            for p in choices:
                click.echo(f"{p.id}\t{p.name}")
            return
        try:
            category = chosen_pipeline(pipeline or "", choices, "en")
            tables = build(
                name,
                session,
                member_id,
                record_id=record_id,
                since=start,
                until=end,
                category=category,
            )
        except (ReportError, FilterError) as exc:
            _fail(str(exc))
    if fmt == "table" and (start or end):
        click.echo(f"# period in portal time ({clock.label()}): [{since or '…'}, {until or '…'})")
    click.echo(_render(tables, fmt), nl=False)


def register(group: click.Group) -> None:
    group.add_command(report)
