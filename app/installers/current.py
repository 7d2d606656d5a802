"""Read a portal's current configuration in a handful of batch calls.

The read is a small fixed-point loop: each round asks (in one or a few ``batch`` calls)
for every list that the desired schema, the store and the previous rounds show to be
relevant — statuses of pipelines we know or that look like ours, fields of our smart
processes — plus further pages of lists that had ``next``. A re-plan of an installed
portal fetches everything in the first round because the store already names the ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.installers.desired import Desired
from app.installers.portal_defaults import DEFAULTS, occupancy_commands
from app.installers.portal_io import run_batch
from app.installers.wire import UF_ENTITY, field_row, status_entity
from app.portal.errors import AccessDenied, MethodNotFound
from app.store.schema_objects import Known
from app.sync.connector import FEATURE, available

APP_ONLY = {"robots": "bizproc.robot.list", "events": "event.get", "placements": "placement.get"}
MAX_ROUNDS = 6
FEATURE_KEY = "feature:connector"


@dataclass
class Snapshot:
    types: list[dict[str, Any]] = field(default_factory=list)
    categories: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fields: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # UF ENTITY_ID → rows
    # entity_id → STATUS_IDs holding records, for untouched default lists only (read or not)
    occupied: dict[str, set[str]] = field(default_factory=dict)
    robots: list[str] | None = None
    events: list[dict[str, Any]] | None = None
    placements: list[dict[str, Any]] | None = None
    # feature.get rest_auth_connector (app.sync.connector): None = not asked / no answer
    connector: bool | None = None
    requests: int = 0


def _wanted(desired: Desired, known: dict[tuple[str, str], Known], snap: Snapshot, fetched):
    """Commands (key → (method, params)) relevant now that were not fetched yet."""
    cmd: dict[str, tuple[str, dict]] = {
        "types": ("crm.type.list", {}),
        "cats:2": ("crm.category.list", {"entityTypeId": 2}),
        "st:STATUS": ("crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}}),
        **{f"uf:{ent}": (f"crm.{e}.userfield.list", {}) for e, ent in UF_ENTITY.items()},
        **{key: (method, {}) for key, method in APP_ONLY.items()},
        FEATURE_KEY: ("feature.get", {"CODE": FEATURE}),
    }
    type_ids: dict[int, int] = {}  # entityTypeId → type id
    for k in known.values():
        if k.kind == "type" and k.real_id and k.meta.get("entityTypeId"):
            type_ids[int(k.meta["entityTypeId"])] = int(k.real_id)
    titles = [sp.title for sp in desired.smart_processes]
    for t in snap.types:
        if any(title.matches(t.get("title")) for title in titles):
            type_ids[int(t["entityTypeId"])] = int(t["id"])
    if "types" in fetched:  # a known type that is gone must not be read further
        alive = {int(t["entityTypeId"]) for t in snap.types}
        type_ids = {e: i for e, i in type_ids.items() if e in alive}
    for etid, type_id in type_ids.items():
        cmd[f"cats:{etid}"] = ("crm.category.list", {"entityTypeId": etid})
        cmd[f"ufc:CRM_{type_id}"] = (
            "userfieldconfig.list",
            {"moduleId": "crm", "filter": {"entityId": f"CRM_{type_id}"}},
        )
    categories: set[tuple[int, int]] = set()
    for k in known.values():
        if k.kind == "category" and k.real_id is not None and k.meta.get("entityTypeId"):
            categories.add((int(k.meta["entityTypeId"]), int(k.real_id)))
    names = [p.name for p in desired.pipelines]
    for etid, rows in snap.categories.items():
        for row in rows:
            if etid != 2 or any(n.matches(row.get("name")) for n in names):
                categories.add((etid, int(row["id"])))
    for etid, cat in categories:
        entity_id = status_entity(etid, cat)
        cmd[f"st:{entity_id}"] = ("crm.status.list", {"filter": {"ENTITY_ID": entity_id}})
    for entity_id in DEFAULTS:  # an untouched default list: which stages hold records?
        if entity_id in snap.statuses:
            cmd.update(occupancy_commands(entity_id, snap.statuses[entity_id]))
    return {k: v for k, v in cmd.items() if k not in fetched}


def _store(snap: Snapshot, key: str, value: Any) -> None:
    kind, _, arg = key.partition(":")
    if kind == "types":
        snap.types.extend((value or {}).get("types", []) if isinstance(value, dict) else value)
    elif kind == "cats":
        rows = value.get("categories", []) if isinstance(value, dict) else value
        snap.categories.setdefault(int(arg), []).extend(rows or [])
    elif kind == "st":
        snap.statuses.setdefault(arg, []).extend(value or [])
    elif kind in ("uf", "ufc"):
        rows = value.get("fields", []) if isinstance(value, dict) else value
        snap.fields.setdefault(arg, []).extend(field_row(r) for r in rows or [])
    elif kind == "occ":
        entity_id, _, status_id = arg.partition("|")
        held = snap.occupied.setdefault(entity_id, set())
        rows = value.get("items", []) if isinstance(value, dict) else value
        if rows is None or rows:  # None: the read failed — keep the stage, to be safe
            held.add(status_id)
    elif kind in APP_ONLY:
        setattr(snap, kind, list(value or []))
    elif kind == "feature":
        snap.connector = available(value)


def read(client, desired: Desired, known: dict[tuple[str, str], Known]) -> Snapshot:
    """The portal's current configuration relevant to ``desired``."""
    snap = Snapshot()
    fetched: set[str] = set()
    pages: dict[str, tuple[str, dict]] = {}
    for _ in range(MAX_ROUNDS):
        cmd = {**_wanted(desired, known, snap, fetched), **pages}
        if not cmd:
            return snap
        fetched.update(k for k in cmd if "@" not in k)
        result = run_batch(client, cmd)
        snap.requests += result.requests
        pages = {}
        for key, err in result.errors.items():
            base = key.split("@")[0]
            if base in APP_ONLY and isinstance(err, AccessDenied | MethodNotFound):
                continue  # webhook / no app context: robots, events, widgets stay unknown
            if base == FEATURE_KEY:  # an older portal: bind as before, without a key
                snap.connector = False
                continue
            if base.startswith("occ:"):
                _store(snap, base, None)  # unknown occupancy counts as occupied
                continue
            raise err
        for key, value in result.results.items():
            base = key.split("@")[0]
            _store(snap, base, value)
            if key in result.nexts:
                method, params = cmd[key]
                pages[f"{base}@{result.nexts[key]}"] = (
                    method,
                    {**params, "start": result.nexts[key]},
                )
    raise RuntimeError("portal configuration did not settle after several read rounds")
