"""What every ``b24`` command shares: ``--portal`` and errors a person can read.

* :func:`portal_option` — ``--portal`` takes the installation's member_id or its domain
  (``acme.bitrix24.com``, ``https://acme.bitrix24.com/``, ``127.0.0.1:8900``) and hands the
  command the member_id. Strict commands need an installation; lenient ones (reports over
  a mirror, timers) pass an unknown value through unchanged.
* :class:`ReadableErrors` — the ``b24`` group: any failure a command does not turn into a
  message itself ends as ONE line ``Error: …`` on stderr with exit 1, never a traceback or
  a Python repr; the traceback goes to the log at DEBUG.
"""

from __future__ import annotations

import logging
import re

import click
from flask.cli import AppGroup, ScriptInfo

log = logging.getLogger("app.cli")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


def normalize_domain(value: str) -> str:
    """``https://Acme.bitrix24.com/rest/`` → ``acme.bitrix24.com`` (how installations store it)."""
    text = _SCHEME.sub("", value.strip())
    return text.split("/", 1)[0].lower()


def find_member_id(session, portal: str) -> str | None:
    """member_id of the installation named by member_id or domain, or None."""
    from app.store import installations

    row = installations.get(session, portal.strip())
    if row is None:
        row = installations.get_by_domain(session, normalize_domain(portal))
    return row.member_id if row is not None else None


def _known(session, limit: int = 5) -> str:
    from sqlalchemy import select

    from app.store.installations import Installation

    rows = session.execute(
        select(Installation.domain, Installation.member_id).order_by(Installation.id).limit(limit)
    ).all()
    if not rows:
        return "no portal is installed yet (make run installs one; or b24 connect)"
    return "known: " + ", ".join(f"{d} ({m})" for d, m in rows)


def resolve_portal(services, portal: str, *, strict: bool = True) -> str:
    """The member_id ``portal`` names; unknown → ClickException (strict) or ``portal``."""
    with services.session() as session:
        member_id = find_member_id(session, portal)
        if member_id is None and strict:
            raise click.ClickException(
                f"no installation with member_id {portal!r} or domain {portal!r}; "
                + _known(session)
            )
    return member_id or portal.strip()


def _services_of(ctx: click.Context):
    app = ctx.ensure_object(ScriptInfo).load_app()
    return app.extensions["services"]


def portal_option(
    name: str = "member_id", *, required: bool = True, strict: bool = True, help=None
):
    """``--portal MEMBER_ID_OR_DOMAIN``, passed to the command as ``name`` = the member_id."""

    def resolve(ctx: click.Context, _param, value):
        if value is None or ctx.resilient_parsing:
            return value
        return resolve_portal(_services_of(ctx), value, strict=strict)

    return click.option(
        "--portal",
        name,
        required=required,
        callback=resolve,
        metavar="PORTAL",
        help=help or "the portal: its member_id or its domain",
    )


def readable(exc: BaseException) -> str:
    """One line saying what went wrong, without a repr or a traceback."""
    from app.portal.errors import HostNotAllowed, PortalError, TokenExpired, TransportError
    from config.settings import SettingsError

    if isinstance(exc, SettingsError):
        return "invalid configuration: " + "; ".join(exc.problems)
    if isinstance(exc, HostNotAllowed):
        return (
            f"{exc.description or exc.code} — the app may call only allowed portals: set "
            "ALLOWED_PORTAL_DOMAINS (or EMULATOR_ADDRESS for a local b24emu; make run writes "
            "it to VAR_DIR/dev.env)"
        )
    if isinstance(exc, TokenExpired) and exc.code == "NO_CLIENT_SECRET":
        return (
            "the portal's token expired and B24_CLIENT_ID/B24_CLIENT_SECRET are not set, so it "
            "cannot be refreshed (make run writes the local app's to VAR_DIR/dev.env)"
        )
    if isinstance(exc, TransportError):
        return f"the portal did not answer: {exc.description or exc.code or type(exc).__name__}"
    if isinstance(exc, PortalError):
        where = f" to {exc.method}" if exc.method else ""
        return f"the portal answered {exc.code or 'an error'}{where}: {exc.description}".rstrip(
            ": "
        )
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])  # str(KeyError) is the repr of its argument
    if type(exc) is ValueError and str(exc).strip():
        return str(exc).strip()  # our own validation messages say what is wrong already
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ReadableErrors(AppGroup):
    """A Flask CLI group whose commands fail with one readable line."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as exc:  # noqa: BLE001 - the last place to turn a crash into a line
            log.debug("command failed", exc_info=True)
            raise click.ClickException(readable(exc)) from None
