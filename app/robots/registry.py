"""Discovery of robot specs: every module of ``app.robots`` exposing ``SPEC: RobotSpec``.

Only modules whose source assigns ``SPEC`` at top level are imported, so the robots'
support modules (runtime, contracts, ...) are not pulled in by the installer.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import lru_cache
from pathlib import Path

from app.robots.spec import RobotSpec

_SPEC_LINE = re.compile(r"^SPEC\s*(:[^=]*)?=", re.MULTILINE)


def _declares_spec(path: Path) -> bool:
    try:
        return bool(_SPEC_LINE.search(path.read_text(encoding="utf-8")))
    except OSError:
        return False


@lru_cache(maxsize=1)
def all_specs() -> dict[str, RobotSpec]:
    """code → spec for every robot module; duplicate codes are an error."""
    import app.robots as package

    found: dict[str, RobotSpec] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        path = Path(package.__path__[0]) / f"{info.name}.py"
        if info.ispkg or info.name.startswith("_") or not _declares_spec(path):
            continue
        spec = getattr(importlib.import_module(f"app.robots.{info.name}"), "SPEC", None)
        if not isinstance(spec, RobotSpec):
            continue
        if spec.code in found:
            raise ValueError(f"robot code {spec.code!r} declared twice")
        found[spec.code] = spec
    return found


def get_spec(code: str) -> RobotSpec | None:
    return all_specs().get(code)
