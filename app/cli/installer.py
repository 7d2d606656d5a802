"""``flask --app wsgi b24 plan|apply|uninstall --portal MEMBER_ID_OR_DOMAIN --playbook NAME ...``

``plan`` prints the diff (exit 0, or 2 when there are conflicts); ``apply`` applies it with
a progress bar and prints a summary (exit 2 when conflicts were left unresolved);
``uninstall`` removes the app's wiring and keeps the data unless ``--purge`` (asks first);
``settings`` shows a playbook's effective settings and sets typed overrides.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.common import portal_option as common_portal_option
from app.playbooks import NAMES

portal_option = common_portal_option("portal")
playbook_option = click.option(
    "--playbook",
    "playbooks",
    multiple=True,
    type=click.Choice(NAMES),
    help="playbook to plan/apply (repeatable; default: the playbooks the installation runs)",
)


def _services():
    return current_app.extensions["services"]


def _member_id(services, portal: str) -> str:
    from app.store import installations

    with services.session() as session:
        row = installations.get(session, portal) or installations.get_by_domain(session, portal)
        if row is None:
            raise click.ClickException(f"no installation with member_id or domain {portal!r}")
        return row.member_id


def _names(services, member_id: str, playbooks) -> list[str]:
    """The given playbooks, else the installation's own set (``b24 playbooks add|remove``
    changes it), else — for an installation that has none recorded — the PLAYBOOKS setting."""
    if playbooks:
        return list(playbooks)
    from app.installers.playbook_set import installed

    with services.session() as session:
        own = installed(session, member_id)
    return own or list(services.settings.playbooks)


def _outside_set(services, member_id: str, names) -> list[str]:
    """Playbooks being applied that the installation does not run (their rules stay off)."""
    from app.installers.playbook_set import installed

    with services.session() as session:
        own = set(installed(session, member_id))
    return [n for n in names if own and n not in own]


@click.command("plan")
@with_appcontext
@portal_option
@playbook_option
def plan_command(portal: str, playbooks: tuple[str, ...]) -> None:
    """Show what apply would change on the portal (reads only)."""
    from app.installers.run import plan_playbooks

    services = _services()
    member_id = _member_id(services, portal)
    result = plan_playbooks(services, member_id, _names(services, member_id, playbooks))
    click.echo(result.render())
    raise SystemExit(2 if result.conflicts else 0)


@click.command("apply")
@with_appcontext
@portal_option
@playbook_option
def apply_command(portal: str, playbooks: tuple[str, ...]) -> None:
    """Bring the portal's configuration to the playbooks' schema."""
    from tqdm import tqdm

    from app.installers.run import install_playbooks

    services = _services()
    member_id = _member_id(services, portal)
    names = _names(services, member_id, playbooks)
    with tqdm(desc="apply", unit="write", disable=None) as bar:  # bars on a TTY only

        def progress(step: int, total: int, text: str) -> None:
            bar.total = total
            bar.n = step
            bar.set_postfix_str(text[:40])
            bar.refresh()

        summary = install_playbooks(services, member_id, names, progress)
    written = ", ".join(f"{n} {what}" for what, n in sorted(summary["written"].items()))
    click.echo(f"Applied {', '.join(summary['playbooks'])}: {written or 'nothing to write'}")
    click.echo(f"REST requests: {summary['requests']} in {summary['rounds']} round(s)")
    for line in summary["adopted"]:
        click.echo(f"adopted: {line}")
    for line in summary.get("to_fill", ()):
        click.echo(f"to fill: {line}")
    for line in summary["notes"]:
        click.echo(f"note: {line}")
    for line in summary["conflicts"]:
        click.echo(f"CONFLICT: {line}", err=True)
    for name in _outside_set(services, member_id, names):
        click.echo(
            f"note: the installation does not run {name}: its rules and tabs stay off; "
            f"`b24 playbooks --portal {portal} add {name}` starts it"
        )
    raise SystemExit(2 if summary["conflicts"] else 0)


@click.command("uninstall")
@with_appcontext
@portal_option
@click.option("--purge", is_flag=True, help="also delete the app's fields (and their values)")
@click.option("--dry-run", "dry_run", is_flag=True, help="only show what would go and stay")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def uninstall_command(portal: str, purge: bool, dry_run: bool, yes: bool) -> None:
    """Remove the app's tabs, robots and event bindings and stop its timers; fields, their
    values, stages, pipelines and records stay. ``--purge`` deletes the app's fields,
    stages, pipelines and smart processes too, after counting the values that would go."""
    from app.installers.run import purge_preview, uninstall_playbooks

    services = _services()
    member_id = _member_id(services, portal)
    if purge:
        counts = purge_preview(services, member_id)
        values = sum(n for _, _, n in counts)
        click.echo(f"--purge deletes {len(counts)} field(s) holding {values} value(s):")
        for entity, code, n in counts:
            click.echo(f"  {entity}:{code}  {n} record(s) with a value")
    else:
        click.echo("Fields, their values, stages, pipelines and records stay on the portal.")
    if dry_run:
        raise SystemExit(0)
    if not yes:
        what = "fields (with their values), stages, pipelines" if purge else "tabs, robots"
        click.confirm(f"Remove the app's {what} and the rest it created?", abort=True)
    timers = _stop_timers(services, member_id)
    report = uninstall_playbooks(services, member_id, purge=purge)
    click.echo(f"Removed {len(report.removed)} object(s) in {report.requests} request(s)")
    click.echo(f"Cancelled {timers} open timer(s) (reason: uninstalled)")
    click.echo("Kept on the portal:")
    for line in report.kept:
        click.echo(f"  {line}")
    for line in report.failed:
        click.echo(f"not removed: {line}", err=True)
    raise SystemExit(1 if report.failed else 0)


def _stop_timers(services, member_id: str) -> int:
    """Cancel the portal's open timers with the reason recorded (nothing may fire after
    uninstall; a reinstall starts fresh ones from new changes)."""
    from app.timers.service import cancel_timers

    with services.session.begin() as session:
        return cancel_timers(session, member_id, reason="uninstalled")


@click.command("settings")
@with_appcontext
@portal_option
@click.option("--playbook", "playbook", required=True, type=click.Choice(NAMES))
@click.option("--set", "assignments", multiple=True, help="KEY=VALUE (JSON values allowed)")
@click.option("--reset", "resets", multiple=True, metavar="KEY", help="back to the default")
def settings_command(
    portal: str, playbook: str, assignments: tuple[str, ...], resets: tuple[str, ...]
) -> None:
    """Show a playbook's settings on the portal (label, unit, example), or change some.

    --set KEY=VALUE overrides one (typed; JSON values allowed; a template's placeholders
    are checked); --reset KEY restores its default. All changes apply together or none,
    each audited as made by "CLI" (shown on the app's settings page).
    """
    import json

    from app.cli.common import readable
    from app.playbooks.settings import describe, reset, set_value
    from app.store.setting_changes import CLI

    services = _services()
    member_id = _member_id(services, portal)
    with services.session.begin() as session:
        try:
            for item in assignments:
                key, sep, raw = item.partition("=")
                if not sep or not key.strip():
                    raise click.BadParameter(f"{item!r}: use KEY=VALUE", param_hint="--set")
                try:
                    value = json.loads(raw)
                except ValueError:
                    value = raw
                set_value(session, member_id, playbook, key.strip(), value, actor=CLI)
            for key in resets:
                reset(session, member_id, playbook, key.strip(), actor=CLI)
        except (KeyError, ValueError) as exc:
            # the transaction rolls back: nothing of this command is half-applied
            raise click.ClickException(readable(exc)) from None
        rows = describe(session, member_id, playbook)
    from app.channels.settings import SECRET_KEYS

    click.echo(f"{playbook} settings (* = changed on this portal; --reset KEY restores):")
    for row in rows:
        mark = "*" if row.overridden else " "
        shown = (  # an SMS provider's key is never printed
            '"***"'
            if row.key in SECRET_KEYS and row.value
            else json.dumps(row.value, ensure_ascii=False)
        )
        click.echo(f"{row.key} = {shown} {mark}")
        example = "***" if row.key in SECRET_KEYS else row.example
        click.echo(f"    {row.label}; {row.kind}; e.g. --set {row.key}='{example}'")


def register(group: click.Group) -> None:
    """Add ``plan``, ``apply``, ``uninstall`` and ``settings`` to the ``b24`` group."""
    for command in (plan_command, apply_command, uninstall_command, settings_command):
        group.add_command(command)
