"""Discovery of robot specs: every module of ``app.robots`` exposing ``SPEC: RobotSpec``."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from app.robots.spec import RobotSpec

_SKIP = {"spec", "registry"}


@lru_cache(maxsize=1)
def all_specs() -> dict[str, RobotSpec]:
    """code → spec for every robot module; duplicate codes are an error."""
    import app.robots as package

    found: dict[str, RobotSpec] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name in _SKIP or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"app.robots.{info.name}")
        spec = getattr(module, "SPEC", None)
        if not isinstance(spec, RobotSpec):
            continue
        if spec.code in found:
            raise ValueError(f"robot code {spec.code!r} declared twice")
        found[spec.code] = spec
    return found


def get_spec(code: str) -> RobotSpec | None:
    return all_specs().get(code)
