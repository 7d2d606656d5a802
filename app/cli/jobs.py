"""``flask --app wsgi b24 jobs failed|requeue`` — failed jobs in sight, and back in the queue.

* ``failed [--portal M] [--queue Q] [--limit N]`` — jobs that failed for good, newest first:
  id, queue, portal, job, when, the exception's last line;
* ``requeue ID…`` or ``requeue --all [--portal M] [--queue Q]`` — once the cause is fixed,
  put them back on their queue (retries restored).
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.common import portal_option
from app.queues import QUEUES


def _services():
    return current_app.extensions["services"]


@click.group("jobs")
def group() -> None:
    """Jobs that failed for good: list them, requeue them."""


@group.command("failed")
@portal_option("member_id", required=False, strict=False, help="member_id or domain")
@click.option("--queue", type=click.Choice(QUEUES), default=None)
@click.option("--limit", type=int, default=1000, show_default=True, help="per queue")
@with_appcontext
def failed_command(member_id, queue, limit) -> None:
    """List failed jobs, newest first."""
    from app.failed_jobs import list_failed

    rows = list_failed(_services(), portal=member_id, queue=queue, limit=limit)
    for f in rows:
        when = f.failed_at.isoformat(timespec="seconds") if f.failed_at else "-"
        func = f.func.removeprefix("app.")
        click.echo(f"{f.id}\t{f.queue}\t{f.portal}\t{func}\t{when}\t{f.error}")
    click.echo(f"{len(rows)} failed job(s)", err=True)


@group.command("requeue")
@click.argument("job_ids", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="every failed job (of --portal/--queue)")
@portal_option(
    "member_id",
    required=False,
    strict=False,
    help="with --all: only this portal's (member_id or domain)",
)
@click.option(
    "--queue", type=click.Choice(QUEUES), default=None, help="with --all: only this queue"
)
@with_appcontext
def requeue_command(job_ids, all_, member_id, queue) -> None:
    """Requeue failed jobs by ID, or --all of them."""
    from app.failed_jobs import requeue

    if bool(job_ids) == all_:
        raise click.UsageError("give job ids or --all (not both)")
    if (member_id or queue) and not all_:
        raise click.UsageError("--portal and --queue go with --all")
    try:
        done = requeue(_services(), list(job_ids) or None, portal=member_id, queue=queue)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    for job_id in done:
        click.echo(job_id)
    click.echo(f"{len(done)} job(s) requeued", err=True)


def register(group_: click.Group) -> None:
    group_.add_command(group)
