"""The plan: steps to write, objects matched, conflicts and notes, and its readable diff."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.installers.desired import Conflict
from app.store.schema_objects import Known

CONTAINERS, CONTENT, CLEANUP = 1, 2, 3


@dataclass(frozen=True)
class Step:
    """One write. ``params`` is None while it waits for a container (``waits_for``) that
    this same apply creates first; apply re-plans after creating containers."""

    kind: str  # type | category | stage | field | robot | event | placement
    op: str  # add | update | delete
    code: str
    text: str
    method: str = ""
    params: dict[str, Any] | None = None
    phase: int = CONTENT
    record: Known | None = None  # stored on success; real_id read from the result
    extract: str = "none"  # how the result names the new object: type | category | int | field
    waits_for: str = ""
    on_exists: tuple[str, dict[str, Any]] | None = None  # call instead when "already exists"

    @property
    def ready(self) -> bool:
        return self.params is not None


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    matches: list[Known] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)  # readable lines for first adoptions
    conflicts: list[Conflict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unchanged: int = 0
    funnel: list[str] = field(default_factory=list)  # the merged lead list, when shared

    @property
    def empty(self) -> bool:
        """Nothing to write (conflicts and notes do not count)."""
        return not self.steps

    def ready_steps(self, max_phase: int = CLEANUP) -> list[Step]:
        ordered = sorted(
            (s for s in self.steps if s.ready and s.phase <= max_phase),
            key=lambda s: s.phase,
        )
        return ordered

    def summary(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.steps:
            out[s.op] = out.get(s.op, 0) + 1
        out["adopt"] = len(self.adopted)
        out["conflict"] = len(self.conflicts)
        out["unchanged"] = self.unchanged
        return out

    def render(self) -> str:
        """The readable diff shown by ``flask b24 plan``."""
        marks = {"add": "+", "update": "~", "delete": "-"}
        lines = []
        for s in sorted(self.steps, key=lambda s: (s.phase, s.kind, s.code)):
            wait = f"  (after {s.waits_for} is created)" if not s.ready else ""
            lines.append(f"{marks.get(s.op, '?')} {s.op:<6} {s.kind:<9} {s.text}{wait}")
        lines.extend(f"= adopt  {line}" for line in self.adopted)
        for c in self.conflicts:
            lines.append(f"! conflict {c.what}: {c.problem}. Fix: {c.fix}")
        lines.extend(f"  note   {n}" for n in self.notes)
        lines.extend(self.funnel)
        counts = ", ".join(f"{v} {k}" for k, v in self.summary().items() if v)
        lines.append(f"Plan: {counts or 'nothing to do'}.")
        return "\n".join(lines)
