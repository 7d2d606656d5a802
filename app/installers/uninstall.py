"""Remove what the app created on a portal (when the admin asks to clean up), nothing else.

Only store rows with ``owned=True`` are touched: adopted fields/stages/pipelines stay.
Order: widgets, events, robots, fields, stages, then pipelines and smart processes.
Records (leads, deals, items) are never deleted: a pipeline or smart process that still
holds records is refused by the portal and reported, not forced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.installers.portal_io import run_batch
from app.portal.errors import NotFound
from app.store import schema_objects
from app.store.schema_objects import Known


@dataclass
class UninstallReport:
    removed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    requests: int = 0


def _command(k: Known, owned_types: set[str]) -> tuple[str, dict] | None:
    if k.kind == "placement":
        return "placement.unbind", {"PLACEMENT": k.real_name, "HANDLER": k.meta.get("handler")}
    if k.kind == "event":
        if k.meta.get("offline"):
            return "event.unbind", {"event": k.real_name, "event_type": "offline"}
        return "event.unbind", {"event": k.real_name, "handler": k.meta.get("handler")}
    if k.kind == "robot":
        return "bizproc.robot.delete", {"CODE": k.code}
    if k.kind == "field" and k.real_id:
        entity = k.meta.get("entity", "")
        if entity in ("lead", "deal", "contact", "company"):
            return f"crm.{entity}.userfield.delete", {"id": k.real_id}
        if entity in owned_types:
            return None  # goes away with its smart process
        return "userfieldconfig.delete", {"moduleId": "crm", "id": k.real_id}
    if k.kind == "stage" and k.real_id and not k.meta.get("in_owned_container"):
        return "crm.status.delete", {"id": k.real_id}
    if k.kind == "category" and k.real_id:
        return "crm.category.delete", {
            "entityTypeId": k.meta.get("entityTypeId", 2),
            "id": k.real_id,
        }
    if k.kind == "type" and k.real_id:
        return "crm.type.delete", {"id": k.real_id}
    return None


ORDER = ("placement", "event", "robot", "field", "stage", "category", "type")


def remove_owned(session, client, member_id: str) -> UninstallReport:
    """Delete the app's own configuration objects and forget the portal's mapping."""
    known = schema_objects.load(session, member_id)
    owned_types = {k.code for k in known.values() if k.kind == "type" and k.owned}
    owned_lists = {k.code for k in known.values() if k.kind == "category" and k.owned}
    cmd: dict[str, tuple[str, dict]] = {}
    keys: dict[str, tuple[str, str]] = {}
    for kind in ORDER:
        for (k_kind, code), k in sorted(known.items()):
            if k_kind != kind or not k.owned:
                continue
            if kind == "stage" and _in_owned_container(k, known, owned_lists, owned_types):
                continue  # removed with its pipeline / smart process
            command = _command(k, owned_types)
            if command:
                key = f"u{len(cmd)}"
                cmd[key], keys[key] = command, (kind, code)
    report = UninstallReport()
    out = run_batch(client, cmd) if cmd else None
    forget = [key for key in known if not known[key].owned]
    for key, where in keys.items():
        err = out.errors.get(key) if out else None
        if err is None or isinstance(err, NotFound):
            report.removed.append(f"{where[0]} {where[1]}")
            forget.append(where)
        else:
            report.failed.append(f"{where[0]} {where[1]}: {err}")
    report.requests = out.requests if out else 0
    if not report.failed:  # containers are gone, so is everything inside them
        forget = list(known)
    schema_objects.forget(session, member_id, forget)
    session.commit()
    return report


def _in_owned_container(k: Known, known, owned_lists, owned_types) -> bool:
    lst = str(k.meta.get("list", ""))
    for code in owned_lists:
        cat = known.get(("category", code))
        if cat and cat.real_id and lst == f"DEAL_STAGE_{cat.real_id}":
            return True
    for code in owned_types:
        t = known.get(("type", code))
        if t and lst.startswith(f"DYNAMIC_{t.meta.get('entityTypeId')}_STAGE_"):
            return True
    return False
