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
from app.robots.registry import all_specs
from app.store.base import Base
from app.store.schema_objects import SchemaObject
from tests.app.test_portal_support import CLIENT_SECRET, memory_client, oauth_credentials

BASE = "http://127.0.0.1:9"  # a refused port: lifecycle deliveries fail fast, URLs stay valid
CLIENT_ID = "local.installer.test"
SCOPES = ["crm", "bizproc", "placement", "userfieldconfig", "user_brief", "task", "im"]
READ_SUFFIXES = (".list", ".get", ".fields", "entity.types", "getByEntityTypeId")
READS = {"batch", "event.get", "placement.get", "profile", "user.current", "app.info"}


def oauth_client(emu, redis_url: str, member_id: str = "m-inst"):
    emu.register_app(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=SCOPES)
    emu.admin.post(f"apps/{CLIENT_ID}/install", {"user_id": 1})
    tokens = emu.admin.post(f"apps/{CLIENT_ID}/tokens", {"user_id": 1})
    client, _ = memory_client(oauth_credentials(tokens, member_id), redis_url)
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
