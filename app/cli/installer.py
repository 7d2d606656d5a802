"""``flask --app wsgi b24 plan|apply|uninstall --portal MEMBER_ID_OR_DOMAIN --playbook NAME ...``

``plan`` prints the diff (exit 0, or 2 when there are conflicts); ``apply`` applies it with
a progress bar and prints a summary (exit 2 when conflicts were left unresolved);
``uninstall`` removes what the app created on the portal (asks for confirmation);
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
    help="playbook to install (repeatable; default: the PLAYBOOKS setting)",
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


def _names(services, playbooks) -> list[str]:
    return list(playbooks or services.settings.playbooks)


@click.command("plan")
@with_appcontext
@portal_option
@playbook_option
def plan_command(portal: str, playbooks: tuple[str, ...]) -> None:
    """Show what apply would change on the portal (reads only)."""
    from app.installers.run import plan_playbooks

    services = _services()
    result = plan_playbooks(services, _member_id(services, portal), _names(services, playbooks))
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
    names = _names(services, playbooks)
    with tqdm(desc="apply", unit="write", disable=None) as bar:  # bars on a TTY only

        def progress(step: int, total: int, text: str) -> None:
            bar.total = total
            bar.n = step
            bar.set_postfix_str(text[:40])
            bar.refresh()

        summary = install_playbooks(services, _member_id(services, portal), names, progress)
    written = ", ".join(f"{n} {what}" for what, n in sorted(summary["written"].items()))
    click.echo(f"Applied {', '.join(summary['playbooks'])}: {written or 'nothing to write'}")
    click.echo(f"REST requests: {summary['requests']} in {summary['rounds']} round(s)")
    for line in summary["adopted"]:
        click.echo(f"adopted: {line}")
    for line in summary["notes"]:
        click.echo(f"note: {line}")
    for line in summary["conflicts"]:
        click.echo(f"CONFLICT: {line}", err=True)
    raise SystemExit(2 if summary["conflicts"] else 0)


@click.command("uninstall")
@with_appcontext
@portal_option
@click.confirmation_option(prompt="Remove every field, stage and pipeline the app created?")
def uninstall_command(portal: str) -> None:
    """Remove what the app created on the portal (records are never deleted)."""
    from app.installers.run import uninstall_playbooks

    services = _services()
    report = uninstall_playbooks(services, _member_id(services, portal))
    click.echo(f"Removed {len(report.removed)} object(s) in {report.requests} request(s)")
    for line in report.failed:
        click.echo(f"not removed: {line}", err=True)
    raise SystemExit(1 if report.failed else 0)


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
    are checked); --reset KEY restores its default. All changes apply together or none.
    """
    import json

    from app.cli.common import readable
    from app.playbooks.settings import describe, reset, set_value

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
                set_value(session, member_id, playbook, key.strip(), value)
            for key in resets:
                reset(session, member_id, playbook, key.strip())
        except (KeyError, ValueError) as exc:
            # the transaction rolls back: nothing of this command is half-applied
            raise click.ClickException(readable(exc)) from None
        rows = describe(session, member_id, playbook)
    click.echo(f"{playbook} settings (* = changed on this portal; --reset KEY restores):")
    for row in rows:
        mark = "*" if row.overridden else " "
        click.echo(f"{row.key} = {json.dumps(row.value, ensure_ascii=False)} {mark}")
        click.echo(f"    {row.label}; {row.kind}; e.g. --set {row.key}='{row.example}'")


def register(group: click.Group) -> None:
    """Add ``plan``, ``apply``, ``uninstall`` and ``settings`` to the ``b24`` group."""
    for command in (plan_command, apply_command, uninstall_command, settings_command):
        group.add_command(command)
