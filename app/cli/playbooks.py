"""``flask b24 playbooks --portal P list|add NAME|remove NAME [--purge] [--dry-run] [--yes]|
preview NAME [--days N]``: the playbooks a live portal runs (``app.installers.playbook_set``).

``preview`` is the dry run (``app.rules.dry_run``): what NAME would have done over the last
N days of the mirror — rules, messages, stage moves, timers — without writing anything.

``add`` shows the installer's plan for the portal's set plus NAME, applies it, and only then
adds NAME to the installation (its rules and tabs start working). ``remove`` shows what goes
(tabs, robots, event bindings only NAME needed; its open timers) and what stays (its fields
with their values, stages, pipelines, records), then stops it; with ``--purge`` it also
deletes what only NAME created (``app.installers.playbook_purge``) after counting the
values that would go. Exit codes: 0 done,
1 refused or failed, 2 plan conflicts (nothing applied).
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.playbooks import NAMES


def _services():
    from flask import current_app

    return current_app.extensions["services"]


def _member_id(services, portal: str) -> str:
    """member_id or domain (any URL form) → member_id, or one readable error naming the
    known portals (the same resolution as every other command's ``--portal``)."""
    from app.cli.common import resolve_portal

    return resolve_portal(services, portal)


@click.group("playbooks")
@click.option("--portal", "portal", required=True, help="member_id or domain of the installation")
@click.pass_context
def playbooks_group(ctx: click.Context, portal: str) -> None:
    """Show, add or remove the playbooks a portal runs."""
    ctx.obj = {"portal": portal}


@playbooks_group.command("list")
@with_appcontext
@click.pass_context
def list_command(ctx: click.Context) -> None:
    """The playbooks the portal runs and the leads each one claims."""
    from app.installers.playbook_set import installed
    from app.playbooks.lead_owner import CLAIMS
    from app.playbooks.settings import effective

    services = _services()
    member_id = _member_id(services, ctx.obj["portal"])
    with services.session() as session:
        names = installed(session, member_id)
        for name in names:
            claims = effective(session, member_id, name).get(CLAIMS)
            shown = f"  leads: {', '.join(map(str, claims)) or '—'}" if claims is not None else ""
            click.echo(f"{name}{shown}")
    if not names:
        click.echo("no playbooks installed")


@playbooks_group.command("add")
@with_appcontext
@click.argument("name", type=click.Choice(NAMES))
@click.option("--yes", is_flag=True, help="apply without asking")
@click.pass_context
def add_command(ctx: click.Context, name: str, yes: bool) -> None:
    """Install NAME on the portal next to what it runs: plan, apply, start its rules."""
    from app.installers.apply import ApplyFailed
    from app.installers.playbook_set import PlaybookSetError, installed, set_playbooks, with_added
    from app.installers.run import install_playbooks, plan_playbooks

    services = _services()
    member_id = _member_id(services, ctx.obj["portal"])
    with services.session() as session:
        current = installed(session, member_id)
    try:
        names = with_added(current, name)
    except PlaybookSetError as exc:
        raise click.ClickException(str(exc)) from None
    plan = plan_playbooks(services, member_id, names)
    click.echo(f"Add {name}: the portal will run {', '.join(names)}.")
    click.echo(plan.render())
    if plan.conflicts:
        click.echo("Conflicts: nothing applied.", err=True)
        raise SystemExit(2)
    if not yes:
        click.confirm(f"Apply and start {name}?", abort=True)
    try:
        summary = install_playbooks(services, member_id, names)
    except ApplyFailed as exc:
        raise click.ClickException(f"{exc}; {name} was not added (re-run to continue)") from None
    if summary["conflicts"]:
        for line in summary["conflicts"]:
            click.echo(f"CONFLICT: {line}", err=True)
        raise SystemExit(2)
    with services.session.begin() as session:
        now = set_playbooks(session, member_id, names)
    written = ", ".join(f"{n} {what}" for what, n in sorted(summary["written"].items()))
    click.echo(f"Applied: {written or 'nothing to write'}")
    click.echo(
        f"{name} added: the portal runs {', '.join(now)}; its rules act from the next change."
    )


@playbooks_group.command("remove")
@with_appcontext
@click.argument("name", type=click.Choice(NAMES))
@click.option(
    "--purge", is_flag=True, help="also delete NAME's own fields (and values), stages, pipelines"
)
@click.option("--dry-run", "dry_run", is_flag=True, help="only show what would go and stay")
@click.option("--yes", is_flag=True, help="remove without asking")
@click.pass_context
def remove_command(ctx: click.Context, name: str, purge: bool, dry_run: bool, yes: bool) -> None:
    """Stop NAME on the portal; every record and field value stays. ``--purge`` also deletes
    the fields, stages, pipelines and smart processes only NAME created, after counting the
    values that would go (``--dry-run`` stops there)."""
    from app.installers.playbook_purge import apply_purge, plan_purge
    from app.installers.playbook_set import PlaybookSetError, apply_removal, plan_removal
    from app.installers.run import base_url
    from app.installers.uninstall import count_values

    services = _services()
    member_id = _member_id(services, ctx.obj["portal"])
    client = services.portal(member_id)
    with services.session() as session:
        try:
            removal = plan_removal(session, member_id, name, base_url(services))
        except PlaybookSetError as exc:
            raise click.ClickException(str(exc)) from None
        cleanup = plan_purge(session, member_id, name, removal.remaining) if purge else None
        counts = count_values(session, client, member_id, cleanup.fields()) if cleanup else []
    click.echo(removal.render())
    if cleanup is not None:
        click.echo(cleanup.render())
        values = sum(n for _, _, n in counts)
        click.echo(f"--purge deletes {len(counts)} field(s) holding {values} value(s):")
        for entity, code, n in counts:
            click.echo(f"  {entity}:{code}  {n} record(s) with a value")
    if dry_run:
        raise SystemExit(0)
    if not yes:
        what = " and delete its own fields (with their values)" if purge else ""
        click.confirm(f"Stop {name}{what}?", abort=True)
    with services.session() as session:
        report = apply_removal(session, client, member_id, removal)
    click.echo(
        f"{name} removed: the portal runs {', '.join(removal.remaining)}; "
        f"{report.cancelled_timers} timer(s) cancelled, {len(report.unbound)} binding(s) removed."
    )
    for line in report.failed:
        click.echo(f"not unbound: {line}", err=True)
    failed = bool(report.failed)
    if cleanup is not None:
        with services.session() as session:
            purged = apply_purge(session, client, member_id, cleanup)
        click.echo(f"Purged {len(purged.removed)} object(s) of {name}.")
        for line in purged.failed:
            click.echo(f"not deleted: {line}", err=True)
        failed = failed or bool(purged.failed)
    raise SystemExit(1 if failed else 0)


@playbooks_group.command("preview")
@with_appcontext
@click.argument("name", type=click.Choice(NAMES))
@click.option("--days", type=click.IntRange(1, 365), default=30, show_default=True)
@click.pass_context
def preview_command(ctx: click.Context, name: str, days: int) -> None:
    """What NAME would have done over the last DAYS days of the mirror (writes nothing)."""
    from app.rules.dry_run import preview_portal

    services = _services()
    member_id = _member_id(services, ctx.obj["portal"])
    report = preview_portal(services, member_id, name, days).as_dict()
    click.echo(
        f"{name}, last {days} day(s): {report['steps']} change(s) on {report['records']} "
        f"record(s); {report['moved_records']} record(s) would move."
    )
    sections = (
        ("rules (times acted)", "rules"),
        ("client messages by channel", "messages"),
        ("stage moves by target stage", "moves"),
        ("timers started", "timers"),
        ("rule errors", "errors"),
    )
    for title, key in sections:
        click.echo(f"{title}:")
        for label, count in report[key].items():
            click.echo(f"  {count:>6}  {label}")
        if not report[key]:
            click.echo("  none")


def register(group: click.Group) -> None:
    """Add ``playbooks`` to the ``b24`` group."""
    group.add_command(playbooks_group)
