"""Helpers for the installer tests against the emulator (no tests here).

An OAuth app is installed on the emulator so app-context methods (robots, events,
widgets) work; the gateway client is built from its tokens. Portal state is read back
through REST, never from the installer's own return values.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.installers.apply import apply
from app.installers.desired import build
from app.installers.mapping import resolve
from app.playbooks import load
from app.robots.registry import all_specs
from app.store.base import Base
from app.store.schema_objects import SchemaObject
from tests.app.test_portal_support import CLIENT_SECRET, memory_client, oauth_credentials

BASE = "http://127.0.0.1:9"  # a refused port: lifecycle deliveries fail fast, URLs stay valid
CLIENT_ID = "local.installer.test"
SCOPES = ["crm", "bizproc", "placement", "userfieldconfig", "user_brief", "task", "im"]
READ_SUFFIXES = (".list", ".get", ".fields", "entity.types", "getByEntityTypeId")
READS = {"batch", "event.get", "placement.get", "profile", "user.current", "app.info"}


def oauth_client(emu, redis_url: str, member_id: str = "m-inst", **limits):
    emu.register_app(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=SCOPES)
    emu.admin.post(f"apps/{CLIENT_ID}/install", {"user_id": 1})
    tokens = emu.admin.post(f"apps/{CLIENT_ID}/tokens", {"user_id": 1})
    client, _ = memory_client(oauth_credentials(tokens, member_id), redis_url, **limits)
    return client


def new_session() -> Session:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[SchemaObject.__table__])
    return Session(engine)


def install(session, client, names, member_id="m-inst", **kw):
    return apply(session, client, member_id, build(names), BASE, all_specs(), **kw)


def write_calls(emu) -> dict[str, int]:
    """Calls (batch sub-calls included) that are not reads, since the last reset."""
    calls = emu.admin.get("requests", limit=0)["calls"]
    return {
        m: n
        for m, n in calls.items()
        if m not in READS and not m.endswith(READ_SUFFIXES) and m != "bizproc.robot.list"
    }


def reset_counts(emu) -> None:
    emu.admin.post("requests/reset")


def statuses(client, entity_id: str) -> list[dict[str, Any]]:
    return client.call(
        "crm.status.list", {"filter": {"ENTITY_ID": entity_id}, "order": {"SORT": "ASC"}}
    )


def lead_fields(client, entity: str) -> dict[str, dict[str, Any]]:
    return {f["FIELD_NAME"]: f for f in client.call(f"crm.{entity}.userfield.list", {})}


def _rank(sem):
    return {None: 0, "": 0, "S": 1, "F": 2}[sem]


def assert_portal_matches(client, session, names, member_id="m-inst"):
    """Stages (semantics, order), fields (types, list values), smart processes, via REST."""
    schema = resolve(session, member_id)
    lead_rows = {r["STATUS_ID"]: r for r in statuses(client, "STATUS")}
    cats = {c["id"]: c for c in client.call("crm.category.list", {"entityTypeId": 2})["categories"]}
    widgets = {(w["placement"], w["handler"]) for w in client.call("placement.get", {})}
    bound = {(b["event"], b.get("handler")) for b in client.call("event.get", {})}
    for name in names:
        book = load(name)
        sorts = []
        for s in book.lead_stages:
            row = lead_rows[schema.stage(s.code)]
            assert (row["SEMANTICS"] or "") == s.semantics, s.code
            sorts.append((_rank(row["SEMANTICS"]), int(row["SORT"])))
        # in-progress stages in the declared order, all below the success stage, failures
        # after it (adopted system failures such as JUNK keep their own place among them)
        process = [sort for rank, sort in sorts if rank == 0]
        assert process == sorted(process), f"{name}: lead stages out of order"
        by_rank = {r: [sort for rank, sort in sorts if rank == r] for r in (0, 1, 2)}
        if sorts:
            assert max(by_rank[0]) < min(by_rank[1]) < min(by_rank[2] or [10**6])
        for p in book.pipelines:
            cat = schema.category(p.code)
            assert cats[cat]["name"] == p.name.ru
            rows = statuses(client, f"DEAL_STAGE_{cat}")
            assert [r["NAME"] for r in rows] == [s.name.ru for s in p.stages]
            assert [r["SEMANTICS"] or "" for r in rows] == [s.semantics for s in p.stages]
        for sp in book.smart_processes:
            etid = schema.entity_type(sp.code)
            t = client.call("crm.type.getByEntityTypeId", {"entityTypeId": etid})["type"]
            assert t["title"] == sp.title.ru
            parents = {r["entityTypeId"] for r in t["relations"]["parent"]}
            assert {1, 2} <= parents
            (cat,) = client.call("crm.category.list", {"entityTypeId": etid})["categories"]
            rows = statuses(client, f"DYNAMIC_{etid}_STAGE_{cat['id']}")
            assert [r["NAME"] for r in rows] == [s.name.ru for s in sp.stages]
            fields = client.call(
                "userfieldconfig.list",
                {"moduleId": "crm", "filter": {"entityId": f"CRM_{t['id']}"}},
            )["fields"]
            by_name = {f["fieldName"]: f for f in fields}
            for f in (f for f in book.fields if f.entity == sp.code):
                real = by_name[f"UF_CRM_{t['id']}_{f.suffix}"]
                assert real["userTypeId"] == f.type
                assert [o["xmlId"] for o in real.get("enum") or []] == [o.code for o in f.options]
        for w in book.widgets:
            placement = w.placement
            for sp in book.smart_processes:
                placement = placement.replace(f"{{{sp.code}}}", str(schema.entity_type(sp.code)))
            assert (placement, f"{BASE}/widgets/{w.code}") in widgets
        for e in book.events:
            assert (e.name, f"{BASE}/events") in bound
        for entity in ("lead", "deal", "contact", "company"):
            wanted = [f for f in book.fields if f.entity == entity]
            if not wanted:
                continue
            have = lead_fields(client, entity)
            for f in wanted:
                row = have[schema.field(f.code, entity).upper]
                assert row["USER_TYPE_ID"] == f.type and (row["MANDATORY"] == "Y") == f.required
                assert [o["XML_ID"] for o in row.get("LIST") or []] == [o.code for o in f.options]
