"""``flask --app wsgi b24 objects ...`` — the metal Object tools from the command line.

* ``objects merge --portal M --main 5 --duplicates 7,9 [--choose UF_CRM_OBJ_SITE=7 ...]
  [--dry-run]`` — plan against the portal and run (or resume) the merge; ``--dry-run``
  prints the plan only. Running the same command again after a failure resumes it.
* ``objects reindex --portal M`` — rebuild the duplicate index from the mirror.
* ``objects token --portal M [--ttl 3600]`` — the merge window API's bearer (page-key signed).
"""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.common import portal_option

group = click.Group("objects", help="metal «Объект»: duplicates and merges")


def _services():
    return current_app.extensions["services"]


def _context(member_id: str):
    from app.store.installations import InstallationNotFound
    from app.sync.context import portal_context

    try:
        return portal_context(_services(), member_id)
    except InstallationNotFound as exc:
        raise click.ClickException(f"no installation with member_id {member_id!r}") from exc


def _ids(text: str) -> tuple[int, ...]:
    try:
        ids = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise click.BadParameter(f"ids must be numbers separated by commas: {text!r}") from exc
    if not ids:
        raise click.BadParameter("at least one duplicate id is required")
    return ids


def _choices(items: tuple[str, ...]) -> dict[str, int]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value.strip().isdigit():
            raise click.BadParameter(f"--choose wants FIELD=OBJECT_ID, got {item!r}")
        out[name.strip()] = int(value)
    return out


@group.command("merge")
@portal_option()
@click.option("--main", "main_id", required=True, type=int)
@click.option("--duplicates", required=True, help="ids separated by commas")
@click.option("--choose", multiple=True, help="FIELD=OBJECT_ID: whose value wins (repeatable)")
@click.option("--dry-run", is_flag=True, help="print the plan, change nothing")
@with_appcontext
def merge(member_id, main_id, duplicates, choose, dry_run) -> None:
    """Merge duplicate Objects into the main one."""
    from app.domain.merge import MergeError
    from app.objects.merge import MergeRequest, plan_dict, preview, run_merge
    from app.portal.errors import PortalError

    ctx = _context(member_id)
    request = MergeRequest(member_id, main_id, _ids(duplicates), _choices(choose))
    try:
        if dry_run:
            click.echo(
                json.dumps(
                    plan_dict(preview(ctx.client, ctx.naming, request)),
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        outcome = run_merge(_services().session, ctx.client, ctx.naming, request)
    except MergeError as exc:
        raise click.ClickException(str(exc)) from exc
    except PortalError as exc:
        raise click.ClickException(f"portal error, run the command again to resume: {exc}") from exc
    done = sum(1 for s in outcome.steps if s["state"] == "applied")
    if outcome.state == "running":
        click.echo(
            f"journal {outcome.journal_id} is being applied by another worker "
            f"({done}/{len(outcome.steps)} steps done); run the command again later to see it"
        )
        return
    word = "resumed" if outcome.resumed else "merged"
    click.echo(
        f"{word}: journal {outcome.journal_id}, {done}/{len(outcome.steps)} steps, state {outcome.state}"
    )


@group.command("reindex")
@portal_option()
@with_appcontext
def reindex(member_id) -> None:
    """Rebuild the duplicate index from the mirror."""
    from app.objects import index

    with _services().session() as session:
        count = index.rebuild(session, member_id)
        session.commit()
    click.echo(f"indexed {count} objects")


@group.command("token")
@portal_option()
@click.option("--ttl", default=3600, type=int)
@with_appcontext
def token(member_id, ttl) -> None:
    """Print a signed merge-window token (never logged)."""
    from app.objects.access import issue, key_of

    key = key_of(_services(), member_id)
    if key is None:
        raise click.ClickException(
            f"no active installation with an application token: {member_id!r}"
        )
    click.echo(issue(key, member_id, ttl=ttl))


def register(parent: click.Group) -> None:
    parent.add_command(group)
