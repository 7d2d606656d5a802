"""REST method modules. :func:`load_all` imports every module in this package once."""

from __future__ import annotations

import importlib
import logging
import pkgutil

log = logging.getLogger("b24emu")

LOAD_ERRORS: dict[str, str] = {}
"""Modules that failed to import (name → error). The portal still serves the other methods,
so one half-written module does not take every test suite down; tests assert this is empty."""

_loaded = False


def load_all() -> None:
    """Import all ``b24emu.methods.*`` modules (each registers its methods on import)."""
    global _loaded
    if _loaded:
        return
    import b24emu.batch  # noqa: F401 - registers "batch"

    for info in pkgutil.iter_modules(__path__):
        name = f"{__name__}.{info.name}"
        try:
            importlib.import_module(name)
        except Exception as exc:  # keep serving; surfaced through LOAD_ERRORS and the log
            log.exception("cannot load REST method module %s", name)
            LOAD_ERRORS[name] = f"{type(exc).__name__}: {exc}"
    _loaded = True
