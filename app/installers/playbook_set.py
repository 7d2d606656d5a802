"""Adding a playbook to, or removing one from, a live portal (``flask b24 playbooks``).

**Add** = the installer's plan for the installation's set plus the new playbook (shown, then
applied); only when the apply succeeded does the installation's set change, so the new
playbook's rules start on the next change and its tabs answer — never half-way.

**Remove** keeps every record and every field value: the playbook's fields, stages,
pipelines and smart processes stay on the portal (a later ``add`` adopts them again). What
goes is what makes it *act*: the installation's set loses it first (its rules stop at once),
its open timers are cancelled with the reason recorded, and the wiring only it needed — its
tabs (placements), robots and event bindings no remaining playbook uses — is unbound.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.installers.desired import build
from app.installers.plan_app import wanted_bindings
from app.installers.portal_io import run_batch
from app.installers.uninstall import removal_command
from app.playbooks import NAMES, load
from app.portal.errors import NotFound
from app.store import installations, schema_objects
from app.store.schema_objects import Known


class PlaybookSetError(ValueError):
    """The change cannot be made (unknown playbook, not installed, the last one…)."""


def installed(session, member_id: str) -> list[str]:
    """The playbooks the installation runs, in NAMES order."""
    row = installations.get(session, member_id)
    if row is None:
        raise installations.InstallationNotFound(member_id)
    have = set(row.playbooks or ())
    return [n for n in NAMES if n in have]


def set_playbooks(session, member_id: str, names) -> list[str]:
    """Store the installation's set (NAMES order); the caller commits."""
    row = installations.get(session, member_id)
    if row is None:
        raise installations.InstallationNotFound(member_id)
    wanted = set(names)
    row.playbooks = [n for n in NAMES if n in wanted]
    return list(row.playbooks)


def with_added(current: list[str], name: str) -> list[str]:
    if name not in NAMES:
        raise PlaybookSetError(f"unknown playbook {name!r}; known: {', '.join(NAMES)}")
    if name in current:
        raise PlaybookSetError(
            f"{name} is already installed (the portal runs {', '.join(current)})"
        )
    return [n for n in NAMES if n in {*current, name}]


@dataclass
class Removal:
    """What removing ``name`` does: ``unbind`` the wiring only it needed, cancel
    ``open_timers`` of its timers, and keep ``kept`` (readable lines) on the portal."""

    name: str
    remaining: list[str]
    unbind: list[Known] = field(default_factory=list)
    open_timers: int = 0
    kept: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"Remove {self.name}: the portal will run {', '.join(self.remaining)}."]
        lines += [f"- unbind {k.kind:<9} {k.real_name or k.code}" for k in self.unbind]
        lines.append(f"- cancel {self.open_timers} open timer(s) of {self.name}")
        lines += [f"= keep   {line}" for line in self.kept]
        lines.append("Records and field values are never deleted.")
        return "\n".join(lines)


def _wiring_codes(names, base_url: str) -> set[tuple[str, str]]:
    """(kind, code) of the placements, robots and event bindings ``names`` need."""
    if not names:
        return set()
    desired = build(names)
    out = {("placement", f"{w.code}|{w.placement}") for w in desired.widgets}
    out |= {("robot", code) for code in desired.robots}
    for event, handler, offline in wanted_bindings(desired, base_url):
        out.add(("event", f"{event}|{'offline' if offline else handler}"))
    return out


def _kept(name: str, remaining: list[str]) -> list[str]:
    book = load(name)
    others = build(remaining) if remaining else None
    shared_fields = {(f.entity, f.code) for f in (others.fields if others else ())}
    fields = [f for f in book.fields if (f.entity, f.code) not in shared_fields]
    lines = []
    if fields:
        lines.append(
            f"{len(fields)} field(s) with their values: " + ", ".join(f.code for f in fields)
        )
    own_lead = [s for s in book.lead_stages if s.status_id not in _lead_ids(others)]
    if own_lead:
        lines.append(f"{len(own_lead)} lead stage(s) and the leads in them")
    for p in book.pipelines:
        lines.append(f"deal pipeline {p.code} «{p.name.ru}» with its deals")
    for sp in book.smart_processes:
        lines.append(f"smart process {sp.code} «{sp.title.ru}» with its items")
    return lines


def _lead_ids(desired) -> set[str]:
    return {s.status_id for s in desired.lead_stages} if desired else set()


def plan_removal(session, member_id: str, name: str, base_url: str) -> Removal:
    """What removing ``name`` from the installation would do (reads the store only)."""
    from app.store.timers import OPEN_STATES, Timer

    current = installed(session, member_id)
    if name not in current:
        raise PlaybookSetError(f"{name} is not installed (the portal runs {', '.join(current)})")
    remaining = [n for n in current if n != name]
    if not remaining:
        raise PlaybookSetError(
            f"{name} is the only playbook on this portal; use `b24 uninstall` to remove the app"
        )
    going = _wiring_codes(current, base_url) - _wiring_codes(remaining, base_url)
    known = schema_objects.load(session, member_id)
    unbind = [k for key, k in sorted(known.items()) if key in going and k.real_name]
    timers = (
        session.query(Timer)
        .filter(
            Timer.member_id == member_id,
            Timer.state.in_(OPEN_STATES),
            Timer.kind.like(f"{name}.%"),
        )
        .count()
    )
    return Removal(name, remaining, unbind, timers, _kept(name, remaining))


@dataclass
class RemovalReport:
    cancelled_timers: int = 0
    unbound: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    requests: int = 0


def apply_removal(session, client, member_id: str, removal: Removal) -> RemovalReport:
    """Stop ``removal.name`` on the portal (see the module doc); commits."""
    from app.timers.service import cancel_timers

    report = RemovalReport()
    set_playbooks(session, member_id, removal.remaining)  # its rules stop with this commit
    report.cancelled_timers = _cancel_own_timers(session, member_id, removal.name, cancel_timers)
    session.commit()
    cmd = {}
    for i, k in enumerate(removal.unbind):
        command = removal_command(k, set())
        if command:
            cmd[f"r{i}"] = command
    out = run_batch(client, cmd) if cmd else None
    forget = []
    for key in cmd:
        k = removal.unbind[int(key[1:])]
        err = out.errors.get(key) if out else None
        if err is None or isinstance(err, NotFound):
            report.unbound.append(f"{k.kind} {k.real_name or k.code}")
            forget.append((k.kind, k.code))
        else:
            report.failed.append(f"{k.kind} {k.real_name or k.code}: {err}")
    report.requests = out.requests if out else 0
    schema_objects.forget(session, member_id, forget)
    session.commit()
    return report


def _cancel_own_timers(session, member_id: str, name: str, cancel_timers) -> int:
    from app.store.timers import OPEN_STATES, Timer

    kinds = {
        k
        for (k,) in session.query(Timer.kind)
        .filter(Timer.member_id == member_id, Timer.state.in_(OPEN_STATES))
        .distinct()
        if k.startswith(f"{name}.")
    }
    reason = f"playbook {name} removed from the portal"
    return sum(cancel_timers(session, member_id, kind=k, reason=reason) for k in sorted(kinds))
