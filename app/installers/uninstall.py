"""Remove what the app created on a portal (when the admin asks to clean up), nothing else.

By default uninstall keeps the client's data: only the app's *wiring* goes (its tabs,
robots and event bindings); its user fields — and every value in them — its stages,
pipelines and smart processes stay on the portal, and the store keeps knowing them, so a
reinstall adopts them again. ``purge=True`` (``b24 uninstall --purge``, after a dry run
that counts the values that would go: :func:`count_values`) removes the app's own fields,
stages, pipelines and smart processes too.

Only store rows with ``owned=True`` are touched: adopted fields/stages/pipelines stay.
Order: widgets, events, robots, fields, stages, then pipelines and smart processes.
Records (leads, deals, items) are never deleted: a pipeline or smart process that still
holds records is refused by the portal and reported, not forced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.installers.portal_io import run_batch
from app.installers.wire import STANDARD_ETID, camel_name
from app.portal.errors import NotFound
from app.store import schema_objects
from app.store.schema_objects import Known


@dataclass
class UninstallReport:
    removed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    requests: int = 0
    kept: list[str] = field(default_factory=list)  # readable: what stays on the portal


def removal_command(k: Known, owned_types: set[str]) -> tuple[str, dict] | None:
    """The REST call that removes ``k`` from the portal (None: nothing to call)."""
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
WIRING = ("placement", "event", "robot")


def remove_owned(session, client, member_id: str, *, purge: bool = False) -> UninstallReport:
    """Delete the app's wiring (and with ``purge`` its own schema objects); see module doc."""
    known = schema_objects.load(session, member_id)
    kinds = ORDER if purge else WIRING
    owned_types = {k.code for k in known.values() if k.kind == "type" and k.owned}
    owned_lists = {k.code for k in known.values() if k.kind == "category" and k.owned}
    cmd: dict[str, tuple[str, dict]] = {}
    keys: dict[str, tuple[str, str]] = {}
    for kind in kinds:
        for (k_kind, code), k in sorted(known.items()):
            if k_kind != kind or not k.owned:
                continue
            if kind == "stage" and in_owned_container(k, known, owned_lists, owned_types):
                continue  # removed with its pipeline / smart process
            command = removal_command(k, owned_types)
            if command:
                key = f"u{len(cmd)}"
                cmd[key], keys[key] = command, (kind, code)
    report = UninstallReport()
    out = run_batch(client, cmd) if cmd else None
    forget = [key for key in known if not known[key].owned] if purge else []
    for key, where in keys.items():
        err = out.errors.get(key) if out else None
        if err is None or isinstance(err, NotFound):
            report.removed.append(f"{where[0]} {where[1]}")
            forget.append(where)
        else:
            report.failed.append(f"{where[0]} {where[1]}: {err}")
    report.requests = out.requests if out else 0
    if purge and not report.failed:  # containers are gone, so is everything inside them
        forget = list(known)
    schema_objects.forget(session, member_id, forget)
    session.commit()
    report.kept = kept_lines({k: v for k, v in known.items() if k not in set(forget)}, purge)
    return report


def kept_lines(known: dict[tuple[str, str], Known], purge: bool) -> list[str]:
    """What stays on the portal after uninstall, in words an admin reads."""

    def count(kind, owned=None):
        return sum(1 for (k, _), v in known.items() if k == kind and owned in (None, v.owned))

    lines = []
    if purge:
        adopted = count("field", False) + count("stage", False) + count("category", False)
        if adopted:
            lines.append(f"{adopted} field(s)/stage(s)/pipeline(s) the app adopted, not created")
    else:
        if count("field"):
            lines.append(f"{count('field')} user field(s) of the app, with every value in them")
        if count("stage"):
            lines.append(f"{count('stage')} stage(s) of the app's lead list and pipelines")
        if count("category"):
            lines.append(f"{count('category')} pipeline(s)")
        if count("type"):
            lines.append(f"{count('type')} smart process(es) with their items")
    lines.append("every lead, deal, contact, company and smart-process item (never deleted)")
    return lines


def count_values(
    session, client, member_id: str, only: set[str] | None = None
) -> list[tuple[str, str, int]]:
    """(entity, field, records with a value) for each user field the app created — what
    ``--purge`` would delete (``only``: just these field keys ``entity:CODE``, what
    ``playbooks remove --purge`` would delete). Reads every record's value through
    ``crm.item.list``."""
    known = schema_objects.load(session, member_id)
    etids = dict(STANDARD_ETID)
    for (kind, code), k in known.items():
        if kind == "type" and k.meta.get("entityTypeId"):
            etids[code] = int(k.meta["entityTypeId"])
    by_entity: dict[str, list[tuple[str, str]]] = {}
    for (kind, code), k in sorted(known.items()):
        if kind != "field" or not k.owned or not k.real_name:
            continue
        if only is not None and code not in only:
            continue
        entity = str(k.meta.get("entity") or code.partition(":")[0])
        by_entity.setdefault(entity, []).append((code.partition(":")[2], camel_name(k.real_name)))
    out = []
    for entity, fields in by_entity.items():
        if entity not in etids:
            continue
        filled = dict.fromkeys((camel for _, camel in fields), 0)
        params = {"entityTypeId": etids[entity], "select": ["id", *filled]}
        pages = client.iter_list("crm.item.list", params, id_field="id", items_key="items")
        for item in pages:
            for camel in filled:
                if item.get(camel) not in (None, "", [], False, "N"):
                    filled[camel] += 1
        out.extend((entity, code, filled[camel]) for code, camel in fields)
    return out


def in_owned_container(k: Known, known, owned_lists, owned_types) -> bool:
    """A stage of a pipeline / smart process the app created (it goes with its container)."""
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
