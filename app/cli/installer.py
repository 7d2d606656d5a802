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

from app.playbooks import NAMES

portal_option = click.option(
    "--portal", "portal", required=True, help="member_id or domain of the installation"
)
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
    with tqdm(desc="apply", unit="write") as bar:

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
def settings_command(portal: str, playbook: str, assignments: tuple[str, ...]) -> None:
    """Show a playbook's effective settings on the portal, or override some (typed)."""
    import json

    from app.playbooks.settings import effective, set_value

    services = _services()
    member_id = _member_id(services, portal)
    with services.session.begin() as session:
        for item in assignments:
            key, sep, raw = item.partition("=")
            if not sep:
                raise click.BadParameter(f"{item!r}: use KEY=VALUE", param_hint="--set")
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
            try:
                set_value(session, member_id, playbook, key.strip(), value)
            except (KeyError, ValueError) as exc:
                raise click.ClickException(str(exc)) from None
        from app.channels.settings import SECRET_KEYS

        for key, value in effective(session, member_id, playbook).items():
            shown = (
                '"***"' if key in SECRET_KEYS and value else json.dumps(value, ensure_ascii=False)
            )
            click.echo(f"{key} = {shown}")  # an SMS provider's key is never printed


def register(group: click.Group) -> None:
    """Add ``plan``, ``apply``, ``uninstall`` and ``settings`` to the ``b24`` group."""
    for command in (plan_command, apply_command, uninstall_command, settings_command):
        group.add_command(command)
