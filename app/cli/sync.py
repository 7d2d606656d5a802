"""``flask --app wsgi b24 sync --portal MEMBER_ID [--entity lead ...] [--restart]``

Full sync of the mirror with a progress bar; resumable (an interrupted run continues from
the last stored id unless ``--restart``). ``--incremental`` runs reconciliation instead
(records modified since the last run, through the rules). ``--offline`` drains the
portal's offline-event queue now (what the scheduler does periodically).
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from tqdm import tqdm

from app.cli.common import portal_option

DEFAULT_ENTITIES = ("lead", "deal", "contact", "company")


@click.command("sync")
@portal_option()
@click.option(
    "--entity",
    "entities",
    multiple=True,
    help="entity to sync (repeatable); default: all CRM types",
)
@click.option("--restart", is_flag=True, help="ignore the checkpoint and start from id 0")
@click.option("--incremental", is_flag=True, help="process records modified since the last run")
@click.option("--offline", "drain_offline", is_flag=True, help="drain the offline-event queue")
@with_appcontext
def command(
    member_id: str, entities: tuple[str, ...], restart: bool, incremental: bool, drain_offline: bool
) -> None:
    """Sync the CRM mirror of one portal."""
    from app.store.installations import InstallationNotFound
    from app.sync import offline, reconcile
    from app.sync.context import portal_context
    from app.sync.full import full_sync

    try:
        ctx = portal_context(_services(), member_id)
    except InstallationNotFound as exc:
        raise click.ClickException(f"no installation with member_id {member_id!r}") from exc
    if drain_offline:
        result = offline.catch_up(ctx)
        click.echo(
            f"offline: {result.rows} rows, {result.records} records, {result.failed_rows} failed"
        )
        return
    if incremental:
        result = reconcile.reconcile(ctx, list(entities) or None)
        click.echo(
            f"incremental: {result.listed} listed, {result.processed} processed, {len(result.errors)} errors"
        )
        if result.errors:
            raise click.ClickException("; ".join(result.errors[:5]))
        return
    for entity in entities or DEFAULT_ENTITIES:
        with tqdm(desc=entity, unit="rec", disable=None) as bar:  # bars on a TTY only
            result = full_sync(ctx, entity, restart=restart, progress=bar.update)
        resumed = f" (resumed after id {result.resumed_from})" if result.resumed_from else ""
        click.echo(f"{entity}: {result.records} records, last id {result.last_id}{resumed}")
    _refresh_people(ctx)


def _refresh_people(ctx) -> None:
    """People's names and the portal's clock, re-read after every full sync."""
    from datetime import UTC, datetime

    from app import people
    from app.portal.errors import PortalError

    try:
        count = people.refresh(ctx.session_factory, ctx.client, ctx.member_id, datetime.now(UTC))
    except PortalError as exc:
        click.echo(f"people: not refreshed ({exc.code or exc}); names show as #id", err=True)
        return
    click.echo(f"people: {count} names")


def register(group: click.Group) -> None:
    """Add ``sync`` to the ``b24`` command group."""
    group.add_command(command)


def _services():
    return current_app.extensions["services"]
