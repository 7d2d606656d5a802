"""``flask --app wsgi b24 db upgrade|current|downgrade`` — the store's Alembic migrations.

The migrations live on several Alembic branches (one per area, see ``app.store.migrate``),
so ``upgrade`` goes to every head at once and ``downgrade`` needs an explicit target
(``base``, a revision id, or ``<branch label>@-1``). These commands are the only ones that
run on an un-migrated store: every other ``b24`` command and every process refuses until
``db upgrade`` has run.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


def _settings():
    return current_app.extensions["settings"]


def _engine():
    return current_app.extensions["services"].engine


@click.group("db")
def group() -> None:
    """Migrate the store: upgrade, current, downgrade."""


@group.command("upgrade")
@click.argument("target", default="heads")
@with_appcontext
def upgrade_command(target: str) -> None:
    """Apply the migrations up to TARGET (default: every branch head)."""
    from app.store import migrate

    before = migrate.store_revisions(_engine())
    migrate.upgrade(_settings().database_url, target)
    status = migrate.schema_status(_engine())
    click.echo(f"before: {', '.join(sorted(before)) or 'none'}")
    click.echo(f"now:    {', '.join(sorted(status.current)) or 'none'}")
    click.echo("store is up to date" if status.ok else status.message)


@group.command("current")
@click.option("--check", is_flag=True, help="exit 1 when the store is not at the code's heads")
@with_appcontext
def current_command(check: bool) -> None:
    """Show the store's revisions against the code's heads."""
    from app.store import migrate

    status = migrate.schema_status(_engine())
    for rev in sorted(status.current | status.heads):
        mark = "ok" if rev in status.current and rev in status.heads else ""
        if rev in status.heads and rev not in status.current:
            mark = "missing"
        elif rev in status.current and rev not in status.heads:
            mark = "store only"
        click.echo(f"{rev}\t{mark}")
    click.echo("store is up to date" if status.ok else status.message)
    if check and not status.ok:
        raise SystemExit(1)


@group.command("downgrade")
@click.argument("target")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@with_appcontext
def downgrade_command(target: str, yes: bool) -> None:
    """Undo migrations down to TARGET (base, a revision id, or LABEL@-1). Drops tables."""
    from app.store import migrate

    if not yes:
        click.confirm(
            f"downgrade the store to {target}? Tables and their rows are dropped", abort=True
        )
    migrate.downgrade(_settings().database_url, target)
    status = migrate.schema_status(_engine())
    click.echo(f"now: {', '.join(sorted(status.current)) or 'none'}")
    click.echo(status.message)


def register(group_: click.Group) -> None:
    group_.add_command(group)
