"""``flask --app wsgi b24 import --portal M FILE.xlsx`` — existing clients from a spreadsheet.

Without ``--apply`` it is a dry run: the column mapping, what would be created, merged or
skipped as a duplicate, and every refused row with its reasons; nothing is written to the
portal. ``--apply`` then writes (the same file and options must have been dry-run), with a
progress bar on a terminal; after a crash the same command resumes where it stopped.
``--map "Header=field"`` corrects the mapping (``field`` ``-`` ignores a column);
``--on-duplicate merge`` fills the blanks of existing records instead of skipping the row;
``--report FILE.csv`` writes every row that was not simply created, with why.
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("import")
@click.option("--portal", "member_id", required=True, help="member_id of the installation")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--apply", "apply_", is_flag=True, help="write to the portal (after a dry run)")
@click.option("--map", "overrides", multiple=True, help='"Header=field" (repeatable)')
@click.option(
    "--on-duplicate",
    "mode",
    type=click.Choice(["skip", "merge"]),
    default="skip",
    show_default=True,
)
@click.option("--default-manager", type=int, help="user id for rows without a manager")
@click.option("--sheet", help="sheet name (default: the active sheet)")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="CSV of the rows")
@with_appcontext
def command(member_id, path, apply_, overrides, mode, default_manager, sheet, report_path) -> None:
    """Import companies, contacts and Objects from an .xlsx file."""
    from tqdm import tqdm

    from app.importer.columns import MappingError, parse_overrides
    from app.importer.run import ImportRefused, Options, run_import, summary, write_report
    from app.importer.sheet import SheetError
    from app.portal.errors import PortalError
    from app.store.installations import InstallationNotFound
    from app.sync.context import portal_context

    try:
        ctx = portal_context(current_app.extensions["services"], member_id)
        options = Options(mode, default_manager, parse_overrides(overrides), sheet)
    except InstallationNotFound as exc:
        raise click.ClickException(f"no installation with member_id {member_id!r}") from exc
    except MappingError as exc:
        raise click.ClickException(str(exc)) from exc
    bar = tqdm(unit="row", desc="import", disable=not sys.stderr.isatty())

    def total(n: int) -> None:
        bar.total = n
        bar.refresh()

    try:
        report = run_import(
            ctx, path, options, dry_run=not apply_, progress=bar.update, on_total=total
        )
    except (ImportRefused, SheetError) as exc:
        raise click.ClickException(str(exc)) from exc
    except PortalError as exc:
        raise click.ClickException(
            f"portal error; run the same command again to resume: {exc}"
        ) from exc
    finally:
        bar.close()
    if report.dry_run or report.resumed_from:
        click.echo("columns: " + "; ".join(report.mapping))
    if report.resumed_from:
        click.echo(f"resumed at row {report.resumed_from}")
    for line in summary(report):
        click.echo(line)
    for number, outcome, detail in report.rows[:50]:
        click.echo(f"  row {number}: {outcome} — {detail}")
    if len(report.rows) > 50:
        click.echo(f"  … {len(report.rows) - 50} more (use --report FILE.csv)")
    if report_path:
        write_report(report, report_path)
        click.echo(f"report: {report_path}")
    if report.dry_run:
        click.echo("nothing written; add --apply to import")


def register(group: click.Group) -> None:
    group.add_command(command)
