"""``flask --app wsgi b24 timers list|cancel|fire-due`` — operators' view of durable timers.

* ``list [--portal M] [--state pending] [--kind K] [--limit N]``
* ``cancel ID`` or ``cancel --portal M [--kind K]``
* ``fire-due [--now ISO] [--inline]`` — one clock tick at ``--now`` (default: now): the due
  timers are enqueued for the workers, or with ``--inline`` fired in this process.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.common import portal_option
from app.store.timers import STATES


def _services():
    return current_app.extensions["services"]


def _clock(now: str | None):
    from app.timers.clocks import ManualClock, SystemClock, parse_instant

    if not now:
        return SystemClock()
    try:
        return ManualClock(parse_instant(now))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--now") from exc


@click.group("timers")
def group() -> None:
    """Durable timers: list, cancel, fire the due ones."""


@group.command("list")
@portal_option(required=False, strict=False)
@click.option("--state", type=click.Choice(STATES), default=None)
@click.option("--kind", default=None)
@click.option("--limit", type=int, default=100, show_default=True)
@with_appcontext
def list_command(member_id, state, kind, limit) -> None:
    """Timers by due time."""
    from app.people import People
    from app.timers.service import list_timers

    with _services().session() as session:
        rows = list_timers(session, member_id=member_id, state=state, kind=kind, limit=limit)
        clocks: dict[str, People] = {}  # due times in each portal's own time (UTC if unknown)
        for t in rows:
            if t.member_id not in clocks:
                clocks[t.member_id] = People.load(session, t.member_id)
            due = clocks[t.member_id].local(t.due_at).isoformat()
            click.echo(
                f"{t.id}\t{t.member_id}\t{t.kind}\t{t.entity}:{t.record_id}\t"
                f"{due}\t{t.state}\t{t.attempts}\t{t.outcome or ''}"
            )
        click.echo(f"{len(rows)} timer(s)", err=True)


@group.command("cancel")
@click.argument("timer_id", type=int, required=False)
@portal_option(required=False, strict=False, help="cancel this portal's open timers")
@click.option("--kind", default=None, help="only this kind (with --portal)")
@with_appcontext
def cancel_command(timer_id, member_id, kind) -> None:
    """Cancel one timer by id, or a portal's open timers."""
    from app.timers import service

    if (timer_id is None) == (member_id is None):
        raise click.UsageError("give a TIMER_ID or --portal (not both)")
    with _services().session() as session:
        if timer_id is not None:
            if not service.cancel_by_id(session, timer_id):
                raise click.ClickException(f"timer {timer_id} does not exist or is not open")
            count = 1
        else:
            count = service.cancel_timers(session, member_id, kind=kind, reason="operator")
        session.commit()
    click.echo(f"cancelled {count} timer(s)")


@group.command("fire-due")
@click.option("--now", default=None, help="ISO-8601 instant with a zone (default: now)")
@click.option("--inline", is_flag=True, help="fire here instead of enqueueing for workers")
@with_appcontext
def fire_due_command(now, inline) -> None:
    """Run one clock tick at --now."""
    from app.timers.clock import fire_due_inline, tick

    clock = _clock(now)
    if inline:
        results = fire_due_inline(_services(), clock)
        for r in results:
            click.echo(
                f"{r['timer']}\t{r.get('status')}\t{r.get('reason') or r.get('error') or ''}"
            )
        click.echo(f"fired {len(results)} timer(s) at {clock.now().isoformat()}", err=True)
        return
    report = tick(_services(), clock, owner="cli")
    click.echo(
        f"enqueued {report.enqueued}, released {report.released + report.orphans}, "
        f"enqueue failures {report.enqueue_failed} at {clock.now().isoformat()}"
    )


def register(group_: click.Group) -> None:
    group_.add_command(group)
