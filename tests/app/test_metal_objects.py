"""Object tools: the migration, the index following the mirror, tokens, merge steps."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.orm import sessionmaker

from app.domain.merge import LinkMove, MergePlan, ObjectRecord
from app.objects import access, index
from app.objects.keys import keys_of, linked_object
from app.objects.merge import MergeRequest
from app.objects.steps import steps_of
from app.rules.naming import PlainNaming
from app.store import mirror
from app.store.base import Base
from app.store.client_comms import ClientComm
from app.store.objects_index import ObjectKey, ObjectMerge
from tests.support.migrations import database_urls, load_revision

REVISIONS = ("0501_objects_index", "0502_client_comms")
TABLES = [ObjectKey.__table__, ObjectMerge.__table__, ClientComm.__table__]
SCHEMA = "metal_objects_mig_test"
M = "member-objects"


@pytest.mark.parametrize("url", database_urls())
def test_migration_matches_models_and_downgrade_removes_the_tables(url):
    revs = [load_revision(f"{name}.py") for name in REVISIONS]
    engine = create_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
            conn.execute(text(f"SET search_path TO {SCHEMA}"))
        ctx = MigrationContext.configure(conn)
        with Operations.context(ctx):
            for rev in revs:
                rev.upgrade()
        wanted = MetaData()
        for t in TABLES:
            t.to_metadata(wanted)
        diffs = [
            d
            for d in compare_metadata(ctx, wanted)
            if not (isinstance(d, tuple) and d[0] == "remove_table")
        ]
        assert diffs == []
        with Operations.context(ctx):
            for rev in reversed(revs):
                rev.downgrade()
        assert not set(engine.dialect.get_table_names(conn)) & {t.name for t in TABLES}
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"DROP SCHEMA {SCHEMA} CASCADE"))


@pytest.fixture
def sessions(monkeypatch):
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    # the listener resolves the portal's SchemaMap; without an installed schema names pass through
    monkeypatch.setattr(index, "_naming", lambda session, member_id: PlainNaming())
    index.install()
    return sessionmaker(engine)


def _object(width=12.5, site="Казань", purpose="warehouse", **extra):
    return {
        "UF_CRM_OBJ_WIDTH": width,
        "UF_CRM_OBJ_LENGTH": 24,
        "UF_CRM_OBJ_HEIGHT": 6,
        "UF_CRM_OBJ_AREA": 300,
        "UF_CRM_OBJ_SITE": site,
        "UF_CRM_OBJ_PURPOSE": purpose,
        **extra,
    }


def test_index_follows_the_mirror_and_finds_normalised_matches(sessions):
    with sessions() as s:
        mirror.put(s, M, "metal.object", 1, _object(parentId1=5))
        mirror.put(s, M, "metal.object", 2, _object(width="12,50", site=" КАЗАНЬ "))
        mirror.put(s, M, "metal.object", 3, _object(width=13))
        mirror.put(s, M, "lead", 9, {"title": "not an Object"})
        s.commit()
    lead = {
        "UF_CRM_MT_WIDTH": 12.5,
        "UF_CRM_MT_LENGTH": 24,
        "UF_CRM_MT_HEIGHT": 6,
        "UF_CRM_MT_SITE": "казань",
        "UF_CRM_MT_PURPOSE": "warehouse",
    }
    keys = keys_of(lead, "lead", PlainNaming())  # area derived from length × width
    with sessions() as s:
        assert index.candidates(s, M, keys) == [1, 2]
        assert index.candidates(s, "other-portal", keys) == []
        assert index.linked(s, M, "lead", 5) == [1]
        mirror.mark_deleted(s, M, "metal.object", 2)
        mirror.put(s, M, "metal.object", 1, _object(site="Самара"))  # edited: no longer a match
        s.commit()
        assert index.candidates(s, M, keys) == []


def test_incomplete_keys_never_match(sessions):
    with sessions() as s:
        mirror.put(s, M, "metal.object", 1, _object(purpose=None))
        s.commit()
        keys = keys_of(_object(purpose=None), "metal.object", PlainNaming())
        assert index.candidates(s, M, keys) == []


def test_linked_object_reads_plain_and_binding_forms():
    assert linked_object({"UF_CRM_MT_OBJECT": 12}) == 12
    assert linked_object({"UF_CRM_MT_OBJECT": "T80_12"}) == 12
    assert linked_object({"UF_CRM_MT_OBJECT": ["15"]}) == 15
    assert linked_object({"UF_CRM_MT_OBJECT": 0}) is None


def test_bearers_are_per_portal_per_key_and_expire():
    token = access.issue("page-key", "m1", ttl=60, now=1000)
    assert access.allowed("page-key", "m1", bearer=token, now=1030)
    assert not access.allowed("page-key", "m1", bearer=token, now=1061)
    assert not access.allowed("page-key", "m2", bearer=token, now=1030)
    assert not access.allowed("rotated", "m1", bearer=token, now=1030)
    assert not access.allowed(None, "m1", bearer=token, now=1030)
    assert not access.allowed("page-key", "m1", bearer=None)
    for junk in ("\u00b2.x", "9" * 5000 + ".x", "nodot"):
        assert not access.allowed("page-key", "m1", bearer=junk)


def test_merge_key_ignores_order_and_steps_fill_free_parent_slots():
    a = MergeRequest("m", 1, (3, 2), {"UF_CRM_OBJ_SITE": 2})
    b = MergeRequest("m", 1, (2, 3), {"UF_CRM_OBJ_SITE": 2})
    assert a.key() == b.key() != MergeRequest("m", 1, (2, 3)).key()
    plan = MergePlan(
        main_id=1,
        updates={"UF_CRM_OBJ_HEIGHT": 6},
        sources={"UF_CRM_OBJ_HEIGHT": 2},
        moves=(LinkMove("lead", 40, 2, 1), LinkMove("deal", 50, 3, 1)),
        deletes=(2, 3),
        conflicts=(),
    )
    main = ObjectRecord(1, {}, {"lead": frozenset({7}), "deal": frozenset()})
    steps = steps_of(plan, PlainNaming(), main)
    assert [s["kind"] for s in steps] == ["update_main", "move_lead", "delete", "delete"]
    update = steps[0]["params"]["fields"]
    assert update == {"UF_CRM_OBJ_HEIGHT": 6, "parentId2": 50}  # lead slot taken: not moved
    assert steps[1]["params"] == {"id": 40, "fields": {"UF_CRM_MT_OBJECT": 1}}
    assert all(s["state"] == "planned" for s in steps)


def test_clients_are_found_by_normalised_phone_email_or_company(sessions):
    from app.objects import comms

    comms.install()
    contact = {
        "assignedById": 4,
        "fm": [
            {"typeId": "PHONE", "value": "8 (912) 345-67-89"},
            {"typeId": "EMAIL", "value": "Ivan@Client.ru"},
        ],
    }
    with sessions() as s:
        mirror.put(s, M, "contact", 3, contact)
        mirror.put(s, M, "company", 8, {"title": "ООО «Ромашка»", "assignedById": 6})
        s.commit()
        by_phone = comms.identify(s, M, ["+7 912 345 67 89"], [])
        assert (by_phone.client.kind, by_phone.client.id, by_phone.client.responsible_id) == (
            "contact",
            3,
            4,
        )
        assert comms.identify(s, M, [], ["ivan@client.ru"]).client.id == 3
        assert comms.identify(s, M, [], [], "Ромашка ООО").client.id == 8
        assert comms.identify(s, M, [], ["nobody@x.ru"]) is None
        mirror.put(s, M, "contact", 3, {**contact, "fm": []})  # the e-mail was removed
        s.commit()
        assert comms.identify(s, M, [], ["ivan@client.ru"]) is None
