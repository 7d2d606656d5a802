"""The ``b24`` Flask CLI group (``flask --app wsgi b24 ...``).

Every module in ``app/cli/`` exposing ``register(group)`` adds its commands; no central list.
"""

from __future__ import annotations

import importlib
import pkgutil

import click


def make_group() -> click.Group:
    from app.cli.common import ReadableErrors

    group = ReadableErrors("b24", help="Bitrix24 app commands (connect a portal, sync, ...).")
    import app.cli as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"app.cli.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(group)
    return group
