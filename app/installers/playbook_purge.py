"""``playbooks remove NAME --purge``: delete what only NAME created on the portal.

Removing a playbook keeps its fields, stages, pipelines and smart processes
(``app.installers.playbook_set``). With ``--purge`` — after a dry run that counts the values
that would go (``app.installers.uninstall.count_values``) — the objects that are NAME's
*alone* are deleted too, with the uninstall machinery (``removal_command``, one batch):

* its user fields no remaining playbook declares (a shared field stays, with its values);
* its lead stages whose STATUS_ID no remaining playbook uses (the shared lead list's
  common stages stay, and so do the portal's own lead statuses — NEW, CONVERTED, JUNK… —
  whoever renamed them), and stages it added to a container it did not create;
* its deal pipelines and smart processes (their stages and the smart process's own fields
  go with them; a pipeline or smart process that still holds records is refused by the
  portal and reported, never forced).

Only objects the app created (``owned``) are deleted; adopted ones stay. Records are never
deleted. The store forgets what is gone, so a later ``add`` creates them afresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.installers.desired import build
from app.installers.plan_fields import field_key
from app.installers.portal_defaults import DEFAULTS
from app.installers.portal_io import run_batch
from app.installers.uninstall import UninstallReport, in_owned_container, removal_command
from app.playbooks import load
from app.portal.errors import NotFound
from app.store import schema_objects
from app.store.schema_objects import Known

ORDER = ("field", "stage", "category", "type")
PORTAL_LEAD_STATUSES = frozenset(DEFAULTS["STATUS"])  # the lead list a portal starts with


@dataclass
class Purge:
    """The objects ``name`` alone created, in deletion order, and what goes with them."""

    name: str
    delete: list[Known] = field(default_factory=list)
    with_containers: list[Known] = field(default_factory=list)  # stages/fields inside those

    def fields(self) -> set[str]:
        """Field keys (``entity:CODE``) whose values go: deleted ones and those inside a
        deleted smart process."""
        return {k.code for k in (*self.delete, *self.with_containers) if k.kind == "field"}

    def render(self) -> str:
        lines = [f"--purge deletes what only {self.name} created:"]
        lines += [f"- delete {k.kind:<9} {k.code}" for k in self.delete]
        inside = len(self.with_containers)
        if inside:
            lines.append(f"- and {inside} stage(s)/field(s) inside those pipelines/processes")
        if not self.delete:
            lines.append("- nothing (every object is shared or was adopted)")
        return "\n".join(lines)


def _own_codes(name: str, remaining: list[str]) -> dict[str, set[str]]:
    """(kind → codes) of NAME's objects that no remaining playbook declares."""
    book = load(name)
    others = build(remaining) if remaining else None
    shared_fields = {(f.entity, f.code) for f in (others.fields if others else ())}
    shared_status = {s.status_id for s in (others.lead_stages if others else ())}
    shared_status |= PORTAL_LEAD_STATUSES
    stages = {s.code for s in book.lead_stages if s.status_id not in shared_status}
    stages |= {s.code for p in book.pipelines for s in p.stages}
    stages |= {s.code for sp in book.smart_processes for s in sp.stages}
    return {
        "field": {field_key(f) for f in book.fields if (f.entity, f.code) not in shared_fields},
        "stage": stages,
        "category": {p.code for p in book.pipelines},
        "type": {sp.code for sp in book.smart_processes},
    }


def plan_purge(session, member_id: str, name: str, remaining: list[str]) -> Purge:
    """What ``--purge`` would delete for ``name`` (reads the store only)."""
    known = schema_objects.load(session, member_id)
    codes = _own_codes(name, remaining)
    mine = {key: k for key, k in known.items() if k.owned and k.code in codes.get(k.kind, ())}
    owned_types = {code for (kind, code) in mine if kind == "type"}
    owned_lists = {code for (kind, code) in mine if kind == "category"}
    purge = Purge(name)
    for kind in ORDER:
        for (k_kind, _code), k in sorted(mine.items()):
            if k_kind != kind:
                continue
            inside = (
                kind == "stage" and in_owned_container(k, known, owned_lists, owned_types)
            ) or (kind == "field" and k.meta.get("entity") in owned_types)
            (purge.with_containers if inside else purge.delete).append(k)
    return purge


def apply_purge(session, client, member_id: str, purge: Purge) -> UninstallReport:
    """Delete ``purge.delete`` in one batch (fields, stages, pipelines, smart processes) and
    forget what is gone; a refused deletion is reported and stays known. Commits."""
    owned_types = {k.code for k in purge.delete if k.kind == "type"}
    cmd: dict[str, tuple[str, dict]] = {}
    keys: dict[str, Known] = {}
    for k in purge.delete:
        command = removal_command(k, owned_types)
        if command:
            key = f"p{len(cmd)}"
            cmd[key], keys[key] = command, k
    out = run_batch(client, cmd) if cmd else None
    report = UninstallReport(requests=out.requests if out else 0)
    gone: set[tuple[str, str]] = set()
    for key, k in keys.items():
        err = out.errors.get(key) if out else None
        if err is None or isinstance(err, NotFound):
            report.removed.append(f"{k.kind} {k.code}")
            gone.add((k.kind, k.code))
        else:
            report.failed.append(f"{k.kind} {k.code}: {err}")
    known = schema_objects.load(session, member_id)
    forget = set(gone)
    for k in purge.with_containers:  # went with its deleted pipeline / smart process
        if _container_gone(k, known, gone):
            forget.add((k.kind, k.code))
    for kind, code in known:
        # a deleted smart process's default category (adopted with it, gone with it)
        if kind == "category" and code.endswith(".default") and ("type", code[:-8]) in gone:
            forget.add((kind, code))
    schema_objects.forget(session, member_id, sorted(forget))
    session.commit()
    return report


def _container_gone(k: Known, known, gone: set[tuple[str, str]]) -> bool:
    if k.kind == "field":
        return ("type", str(k.meta.get("entity"))) in gone
    lists = {code for kind, code in gone if kind == "category"}
    types = {code for kind, code in gone if kind == "type"}
    return in_owned_container(k, known, lists, types)
