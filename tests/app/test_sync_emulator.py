"""Fetch and apply against the real emulator over HTTP (batch chaining, not-found, echo)."""

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from app.rules import actions as A
from app.rules.apply import DONE, DUPLICATE, apply_with
from app.rules.changes import diff
from app.rules.naming import PlainNaming
from app.store import mirror
from app.store.base import Base
from app.sync.fetch import fetch_record
from tests.app._events_fakes import emu_requests, gateway_client

M = "member-emu"


@pytest.fixture
def client(emulator, redis_conn):
    return gateway_client(emulator, redis_conn, M)


@pytest.fixture
def sessions():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    return sessionmaker(engine)


def test_fetch_reads_record_and_related_company_in_one_batch_and_missing_is_none(client, emulator):
    company = client.call("crm.item.add", {"entityTypeId": 4, "fields": {"title": "ACME"}})["item"]
    deal = client.call(
        "crm.item.add", {"entityTypeId": 2, "fields": {"title": "D", "companyId": company["id"]}}
    )["item"]
    before = emu_requests(emulator)
    got = fetch_record(client, PlainNaming(), "deal", deal["id"], needs=["company"])
    assert emu_requests(emulator) == before + 1
    assert got.record["title"] == "D" and got.related["company"]["title"] == "ACME"
    assert fetch_record(client, PlainNaming(), "deal", 999999).record is None


def test_create_link_and_update_in_one_batch_then_echo_is_no_change(client, sessions, emulator):
    lead = client.call("crm.item.add", {"entityTypeId": 1, "fields": {"title": "L"}})["item"]
    with sessions() as s:
        mirror.put(s, M, "lead", lead["id"], lead)
        s.commit()
    acts = [
        A.CreateRecord("contact", {"name": "Ivan"}, ref="c"),
        A.LinkRecords(("lead", lead["id"]), ("contact", A.Ref("c")), via="contactId"),
        A.UpdateFields("lead", lead["id"], {"title": "L (linked)"}),
    ]
    before = emu_requests(emulator)
    report = apply_with(
        sessions,
        client,
        PlainNaming(),
        M,
        acts,
        cause="c1",
        rule="t.r",
        record=("lead", lead["id"]),
    )
    assert [o.status for o in report.outcomes] == [DONE] * 3
    assert emu_requests(emulator) == before + 1
    current = client.call("crm.item.get", {"entityTypeId": 1, "id": lead["id"]})["item"]
    contact_id = report.outcomes[0].result["id"]
    assert current["title"] == "L (linked)" and current["contactId"] == contact_id
    with sessions() as s:
        assert diff(M, "lead", lead["id"], mirror.get(s, M, "lead", lead["id"]), current) == []
    replay = apply_with(
        sessions,
        client,
        PlainNaming(),
        M,
        acts,
        cause="c1",
        rule="t.r",
        record=("lead", lead["id"]),
    )
    assert [o.status for o in replay.outcomes] == [DUPLICATE] * 3
    assert (
        len(client.call("crm.item.list", {"entityTypeId": 3, "filter": {"name": "Ivan"}})["items"])
        == 1
    )


def test_activities_reach_activity_rules_with_their_owner_but_our_todos_do_not(
    emulator, client, sessions, redis_conn
):
    from datetime import UTC, datetime

    from app.rules import dispatch
    from app.rules.model import Rule, on_created
    from app.sync.context import PortalContext
    from app.sync.process import process_record

    def came_back(ctx):
        owner = ctx.related.get("owner") or {}
        return [A.Notify((1,), f"client active on {owner.get('title')}")]

    dispatch.register(
        "acts", [Rule("came_back", "activity", on_created(), came_back, needs=("owner",))]
    )
    try:
        ctx = PortalContext(M, sessions, client, PlainNaming(), redis_conn, playbooks=("acts",))
        lead = client.call("crm.item.add", {"entityTypeId": 1, "fields": {"title": "Hangar"}})[
            "item"
        ]
        activity_id = client.call(
            "crm.activity.add",
            {
                "fields": {
                    "OWNER_TYPE_ID": 1,
                    "OWNER_ID": lead["id"],
                    "TYPE_ID": 2,
                    "SUBJECT": "Call",
                    "RESPONSIBLE_ID": 1,
                }
            },
        )
        result = process_record(ctx, "activity", int(activity_id))
        assert result.changes == ["created"] and result.actions_done == 1
        assert emulator.portal.crm.notifications[-1]["message"] == "client active on Hangar"

        todo = A.CreateTodo(("lead", lead["id"]), "Follow up", datetime(2026, 12, 1, tzinfo=UTC))
        report = apply_with(
            sessions,
            client,
            PlainNaming(),
            M,
            [todo],
            cause="c",
            rule="acts.x",
            record=("lead", lead["id"]),
        )
        todo_id = report.outcomes[0].result["id"]
        assert process_record(ctx, "activity", int(todo_id)).changes == ["ours"]
        assert len(emulator.portal.crm.notifications) == 1
        client.call("crm.activity.delete", {"id": activity_id})
        assert process_record(ctx, "activity", int(activity_id)).changes == ["deleted"]
    finally:
        dispatch.unregister("acts")


def test_fetch_reads_the_responsible_user_in_the_same_batch(client, emulator):
    lead = client.call(
        "crm.item.add", {"entityTypeId": 1, "fields": {"title": "L", "assignedById": 2}}
    )["item"]
    before = emu_requests(emulator)
    got = fetch_record(client, PlainNaming(), "lead", lead["id"], needs=["responsible_user"])
    assert emu_requests(emulator) == before + 1
    assert got.related["responsible_user"]["WORK_POSITION"] == "Руководитель отдела продаж"
