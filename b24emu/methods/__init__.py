"""REST method modules. :func:`load_all` imports every module in this package once."""

from __future__ import annotations

import importlib
import pkgutil

_loaded = False


def load_all() -> None:
    """Import all ``b24emu.methods.*`` modules (each registers its methods on import)."""
    global _loaded
    if _loaded:
        return
    import b24emu.batch  # noqa: F401 - registers "batch"

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True
