"""The ``b24`` Flask CLI group (``flask --app wsgi b24 ...``).

Every module in ``app/cli/`` exposing ``register(group)`` adds its commands; no central list.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from app.cli.common import ReadableErrors


class _B24Group(ReadableErrors):
    """Fails with one readable line (:class:`ReadableErrors`), and refuses every command but
    ``db …`` (and ``--help``) on a store the code does not fit, with the one line
    ``store is at revision X, code needs Y: run … db upgrade``."""

    def invoke(self, ctx: click.Context):
        args = [*getattr(ctx, "_protected_args", []), *ctx.args]
        if args and args[0] != "db" and "--help" not in args and not ctx.resilient_parsing:
            from flask.cli import ScriptInfo

            from app.store.migrate import StoreNotReady, require_current

            app = ctx.ensure_object(ScriptInfo).load_app()
            try:
                require_current(app.extensions["services"].engine)
            except StoreNotReady as exc:
                raise click.ClickException(str(exc)) from None
        return super().invoke(ctx)


def make_group() -> click.Group:
    group = _B24Group("b24", help="Bitrix24 app commands (connect a portal, sync, ...).")
    import app.cli as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"app.cli.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(group)
    return group
