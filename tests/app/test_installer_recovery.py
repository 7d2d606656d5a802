"""Existing portals (adoption, conflicts), interrupted applies, and uninstall."""

import pytest

from app.installers.apply import ApplyFailed
from app.installers.mapping import resolve
from app.installers.uninstall import remove_owned
from app.portal.errors import PortalError
from tests.app.test_installer_support import (
    assert_portal_matches,
    install,
    lead_fields,
    new_session,
    oauth_client,
    reset_counts,
    statuses,
    write_calls,
)


@pytest.fixture
def client(emulator, redis_url):
    return oauth_client(emulator, redis_url)


def _hand_made(client):
    """What an admin might have built by hand before installing the app."""
    client.call(
        "crm.lead.userfield.add",
        {"fields": {"FIELD_NAME": "UF_CRM_1721244707107", "USER_TYPE_ID": "double",
                    "LABEL": "Ширина, м", "EDIT_FORM_LABEL": {"ru": "Ширина, м"}}},
    )  # fmt: skip
    client.call(
        "crm.lead.userfield.add",
        {"fields": {"FIELD_NAME": "UF_CRM_64A29A1CD5CC2", "USER_TYPE_ID": "enumeration",
                    "LABEL": "Регион", "LIST": [{"VALUE": "Москва"}]}},
    )  # fmt: skip
    client.call(
        "crm.status.add",
        {"fields": {"ENTITY_ID": "STATUS", "STATUS_ID": "UC_HAND1", "NAME": "Данные заполнены",
                    "SORT": 25}},
    )  # fmt: skip
    return client.call(
        "crm.category.add", {"entityTypeId": 2, "fields": {"name": "Металлоконструкции"}}
    )["category"]["id"]


def test_look_alikes_are_adopted_and_a_type_mismatch_is_reported(emulator, client):
    cat = _hand_made(client)
    session = new_session()
    report = install(session, client, ["metal"])
    fields = lead_fields(client, "lead")
    assert "UF_CRM_MT_WIDTH" not in fields  # adopted the hand-made «Ширина, м»
    schema = resolve(session, "m-inst")
    assert schema.field("UF_CRM_MT_WIDTH", "lead").upper == "UF_CRM_1721244707107"
    assert schema.stage("metal.lead.data_complete") == "UC_HAND1"
    assert [r["NAME"] for r in statuses(client, "STATUS")].count("Данные заполнены") == 1
    cats = client.call("crm.category.list", {"entityTypeId": 2})["categories"]
    assert [c["id"] for c in cats if c["name"] == "Металлоконструкции"] == [cat]
    assert schema.category("metal.deal") == cat
    # «Регион» exists as a list; the playbook wants a string: reported, not overwritten
    (conflict,) = report.conflicts
    assert "UF_CRM_MT_REGION" in conflict.what and "enumeration" in conflict.problem
    assert (
        "UF_CRM_MT_REGION" not in fields
        and fields["UF_CRM_64A29A1CD5CC2"]["USER_TYPE_ID"] == "enumeration"
    )
    reset_counts(emulator)
    install(session, client, ["metal"])
    assert write_calls(emulator) == {}


def test_hand_made_smart_process_is_adopted_and_its_own_stages_are_kept(emulator, client):
    made = client.call(
        "crm.type.add",
        {"fields": {"title": "объект", "isCategoriesEnabled": "Y", "isStagesEnabled": "Y"}},
    )["type"]
    session = new_session()
    report = install(session, client, ["metal"])
    assert any("metal.object → type" in line for line in report.adopted)
    types = [t for t in client.call("crm.type.list", {})["types"] if t["title"].lower() == "объект"]
    assert [t["id"] for t in types] == [made["id"]]
    etid = made["entityTypeId"]
    (cat,) = client.call("crm.category.list", {"entityTypeId": etid})["categories"]
    rows = statuses(client, f"DYNAMIC_{etid}_STAGE_{cat['id']}")
    ids = [r["STATUS_ID"].split(":")[1] for r in rows]
    assert {"PREPARATION", "CLIENT"} <= set(ids)  # not ours: nothing removed or renamed
    assert {"DESIGN", "BUILDING"} <= set(ids)  # ours added
    fields = client.call(
        "userfieldconfig.list", {"moduleId": "crm", "filter": {"entityId": f"CRM_{made['id']}"}}
    )["fields"]
    assert f"UF_CRM_{made['id']}_OBJ_WIDTH" in {f["fieldName"] for f in fields}
    remove_owned(session, client, "m-inst", purge=True)
    assert [t["id"] for t in client.call("crm.type.list", {})["types"]] == [made["id"]]


class CrashingClient:
    """Forwards the first ``budget`` write commands, then dies like a killed worker:
    those writes happened on the portal but apply never saw their results."""

    def __init__(self, client, budget):
        self.client, self.budget = client, budget

    def batch(self, cmd, halt=False):
        writes = [k for k, (m, _) in cmd.items() if not m.endswith((".list", ".get"))]
        if not writes:
            return self.client.batch(cmd, halt=halt)
        if len(writes) > self.budget:
            part = dict(list(cmd.items())[: self.budget])
            if part:
                self.client.batch(part, halt=halt)
            raise ConnectionError("worker killed mid-apply")
        self.budget -= len(writes)
        return self.client.batch(cmd, halt=halt)


class FailingTailClient:
    """Every write command after the first ``budget`` ones fails with a 500-style error."""

    def __init__(self, client, budget):
        self.client, self.budget = client, budget

    def batch(self, cmd, halt=False):
        out = self.client.batch({k: v for k, v in list(cmd.items())[: self.budget]}, halt=halt)
        for key in list(cmd)[self.budget :]:
            from app.portal.errors import ServerError

            out.errors[key] = ServerError("INTERNAL_SERVER_ERROR", "injected")
        self.budget = max(0, self.budget - len(cmd))
        return out


def test_portal_500s_half_way_then_next_run_completes(emulator, redis_url):
    """Emulator fault injection: after the containers are created every request fails."""
    client = oauth_client(emulator, redis_url, max_attempts=2)
    session = new_session()

    def break_portal(step, total, text):
        emulator.admin.post(
            "faults", {"fail_next": [{"method": "batch", "status": 500, "count": 50}]}
        )

    with pytest.raises(PortalError):
        install(session, client, ["metal"], progress=break_portal)
    emulator.admin.post("faults", {})
    # half-way: the containers exist, their content does not
    assert [t["title"] for t in client.call("crm.type.list", {})["types"]] == ["Объект"]
    assert "UF_CRM_MT_WIDTH" not in lead_fields(client, "lead")
    report = install(session, client, ["metal"])
    assert report.final_plan.empty and report.adopted == []
    assert report.written.get("add type", 0) == 0 and report.written.get("add category", 0) == 0
    _no_duplicates(client, session)
    assert_portal_matches(client, session, ["metal"])


def _no_duplicates(client, session):
    names = [r["NAME"] for r in statuses(client, "STATUS")]
    assert len(names) == len(set(names))
    for entity in ("lead", "deal"):
        labels = [str(f.get("EDIT_FORM_LABEL")) for f in lead_fields(client, entity).values()]
        assert len(labels) == len(set(labels)), entity
    types = client.call("crm.type.list", {})["types"]
    assert [t["title"] for t in types].count("Объект") == 1
    cats = [c["name"] for c in client.call("crm.category.list", {"entityTypeId": 2})["categories"]]
    assert len(cats) == len(set(cats))


@pytest.mark.parametrize("budget", [1, 40, 75])
def test_crash_mid_apply_then_next_run_completes_without_duplicates(emulator, client, budget):
    session = new_session()
    with pytest.raises(ConnectionError):
        install(session, CrashingClient(client, budget), ["metal", "eshop"])
    report = install(session, client, ["metal", "eshop"])
    assert report.final_plan.empty and report.conflicts == [] and report.adopted == []
    _no_duplicates(client, session)
    # what the crashed run created is still known as ours: brought fully to spec
    assert_portal_matches(client, session, ["metal", "eshop"])
    reset_counts(emulator)
    install(session, client, ["metal", "eshop"])
    assert write_calls(emulator) == {}


def test_failed_writes_are_reported_and_the_next_run_does_only_the_rest(emulator, client):
    session = new_session()
    with pytest.raises(ApplyFailed) as failed:
        install(session, FailingTailClient(client, 36), ["metal"])  # reads included
    assert failed.value.failures
    reset_counts(emulator)
    install(session, client, ["metal"])
    done_again = write_calls(emulator)
    assert "crm.type.add" not in done_again and "crm.category.add" not in done_again
    _no_duplicates(client, session)


def test_uninstall_removes_only_what_the_app_created(emulator, client):
    _hand_made(client)
    session = new_session()
    install(session, client, ["metal"])
    report = remove_owned(session, client, "m-inst", purge=True)
    assert report.failed == []
    fields = lead_fields(client, "lead")
    assert "UF_CRM_1721244707107" in fields and "UF_CRM_64A29A1CD5CC2" in fields  # adopted: kept
    assert "UF_CRM_MT_LENGTH" not in fields and "UF_CRM_MT_PURPOSE" not in fields
    assert "UC_HAND1" in {r["STATUS_ID"] for r in statuses(client, "STATUS")}
    assert "MT_DATA_MISS" not in {r["STATUS_ID"] for r in statuses(client, "STATUS")}
    assert not [t for t in client.call("crm.type.list", {})["types"] if t["title"] == "Объект"]
    names = [c["name"] for c in client.call("crm.category.list", {"entityTypeId": 2})["categories"]]
    assert "Металлоконструкции" in names  # hand-made pipeline adopted, so kept
    assert "calc_area" not in client.call("bizproc.robot.list", {})
    assert not [b for b in client.call("event.get", {}) if b["event"] == "ONCRMLEADADD"]
