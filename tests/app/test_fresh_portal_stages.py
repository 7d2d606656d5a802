"""A fresh portal's default lead statuses become the playbook's (``flask b24 plan|apply``).

The emulator seeds the lead list a fresh portal has (api-reference/crm/status/
crm-status-list.md, tutorials/crm/how-to-get-lists/how-to-get-stages-with-semantics.md):
``NEW, IN_PROCESS, PROCESSED, CONVERTED, JUNK`` with their default names. Untouched, it is
brought to the playbook; with leads in a default stage, that stage stays and the plan says
why; renamed by an admin, it is a shared list the app only adds to.
"""

from __future__ import annotations

import requests

from app.playbooks import load
from app.web import create_app


def _connect(runner, emu) -> str:
    result = runner.invoke(args=["b24", "connect", "--webhook", emu.webhook_url(), "--no-install"])
    assert result.exit_code == 0, result.output
    return result.output.split("member_id=")[1].split()[0]


def _lead_statuses(emu) -> list[tuple[str, str]]:
    rows = requests.post(
        emu.webhook_url() + "crm.status.list",
        json={"filter": {"ENTITY_ID": "STATUS"}, "order": {"SORT": "ASC"}},
        timeout=30,
    ).json()["result"]
    return [(r["STATUS_ID"], r["NAME"]) for r in rows]


def _metal_lead_stages() -> list[tuple[str, str]]:
    return [(s.status_id, s.name.ru) for s in load("metal").lead_stages]


def _world(make_services):
    from b24emu.testing import running_emulator

    emu_cm = running_emulator()
    emu = emu_cm.__enter__()
    services = make_services(emulator_address=emu.domain)
    runner = create_app(services=services).test_cli_runner()
    return emu_cm, emu, runner, _connect(runner, emu)


def test_apply_metal_on_a_fresh_portal_leaves_exactly_the_playbooks_lead_stages(make_services):
    emu_cm, emu, runner, member_id = _world(make_services)
    try:
        dry = runner.invoke(args=["b24", "plan", "--portal", member_id, "--playbook", "metal"])
        assert dry.exit_code == 0, dry.output
        assert "untouched default stages become the playbook's" in dry.output
        assert "- delete stage     IN_PROCESS «In progress» (portal default, unused)" in dry.output
        assert "NAME 'Not processed' → 'Не обработан'" in dry.output
        assert len(_lead_statuses(emu)) == 5  # a dry run writes nothing

        applied = runner.invoke(args=["b24", "apply", "--portal", member_id, "--playbook", "metal"])
        assert applied.exit_code == 0, applied.output
        assert _lead_statuses(emu) == _metal_lead_stages()

        again = runner.invoke(args=["b24", "plan", "--portal", member_id, "--playbook", "metal"])
        assert "- delete" not in again.output and "~ update" not in again.output
    finally:
        emu_cm.__exit__(None, None, None)


def test_a_default_stage_holding_leads_is_kept_and_the_plan_says_why(make_services):
    emu_cm, emu, runner, member_id = _world(make_services)
    try:
        lead = emu.admin.post("crm/lead", {"source": "manual", "title": "Early bird"})
        emu.admin.post("crm/move", {"entity_type_id": 1, "id": lead["id"],
                                    "stage_id": "PROCESSED"})  # fmt: skip
        plan = runner.invoke(args=["b24", "plan", "--portal", member_id, "--playbook", "metal"])
        assert "«Processed» (PROCESSED) is kept: records are in it" in plan.output
        assert "delete stage     PROCESSED" not in plan.output
        applied = runner.invoke(args=["b24", "apply", "--portal", member_id, "--playbook", "metal"])
        assert applied.exit_code == 0, applied.output
        got = _lead_statuses(emu)
        assert ("PROCESSED", "Processed") in got  # kept, records are in it
        assert "IN_PROCESS" not in dict(got)  # empty: removed
        assert [s for s in got if s[0] != "PROCESSED"] == _metal_lead_stages()
    finally:
        emu_cm.__exit__(None, None, None)


def test_a_renamed_lead_list_is_shared_and_only_gets_the_playbooks_stages_added(make_services):
    emu_cm, emu, runner, member_id = _world(make_services)
    try:
        rows = requests.post(
            emu.webhook_url() + "crm.status.list",
            json={"filter": {"ENTITY_ID": "STATUS"}},
            timeout=30,
        ).json()["result"]
        in_process = next(r for r in rows if r["STATUS_ID"] == "IN_PROCESS")
        requests.post(
            emu.webhook_url() + "crm.status.update",
            json={"id": in_process["ID"], "fields": {"NAME": "Звонок"}},
            timeout=30,
        )
        applied = runner.invoke(args=["b24", "apply", "--portal", member_id, "--playbook", "metal"])
        assert applied.exit_code == 0, applied.output
        got = dict(_lead_statuses(emu))
        assert got["IN_PROCESS"] == "Звонок" and got["PROCESSED"] == "Processed"
        assert got["NEW"] == "Not processed"  # not ours to rename
        assert {sid for sid, _ in _metal_lead_stages()} <= set(got)
    finally:
        emu_cm.__exit__(None, None, None)
