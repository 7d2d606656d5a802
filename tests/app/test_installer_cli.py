"""``flask b24 plan|apply`` and the install job with the real installer, over a webhook."""

from __future__ import annotations

from app.jobs.install import install_portal
from app.store import installations as inst
from app.web import create_app


def _connect(runner, emu) -> str:
    result = runner.invoke(args=["b24", "connect", "--webhook", emu.webhook_url(), "--no-install"])
    assert result.exit_code == 0, result.output
    return result.output.split("member_id=")[1].split()[0]


def test_plan_apply_then_empty_plan_through_the_cli(make_services):
    from b24emu.testing import running_emulator

    with running_emulator() as emu:
        services = make_services(emulator_address=emu.domain)
        runner = create_app(services=services).test_cli_runner()
        member_id = _connect(runner, emu)
        before = runner.invoke(args=["b24", "plan", "--portal", emu.domain, "--playbook", "eshop"])
        assert before.exit_code == 0, before.output
        assert "+ add    category  deal pipeline eshop.orders" in before.output
        assert "app context" in before.output  # a webhook cannot bind events or robots

        applied = runner.invoke(args=["b24", "apply", "--portal", member_id, "--playbook", "eshop"])
        assert applied.exit_code == 0, applied.output
        assert "Applied eshop" in applied.output
        hook = emu.webhook_url()
        import requests

        fields = requests.post(hook + "crm.contact.userfield.list", json={}).json()["result"]
        segment = next(f for f in fields if f["FIELD_NAME"] == "UF_CRM_ES_SEGMENT")
        assert [o["XML_ID"] for o in segment["LIST"]] == ["new", "active", "repeat", "lapsed"]

        after = runner.invoke(args=["b24", "plan", "--portal", member_id, "--playbook", "eshop"])
        assert (
            after.exit_code == 0 and "+ add" not in after.output and "~ update" not in after.output
        )


def test_plan_exits_2_on_conflicts(make_services):
    from b24emu.testing import running_emulator

    with running_emulator() as emu:
        services = make_services(emulator_address=emu.domain)
        runner = create_app(services=services).test_cli_runner()
        member_id = _connect(runner, emu)
        import requests

        requests.post(
            emu.webhook_url() + "crm.deal.userfield.add",
            json={"fields": {"FIELD_NAME": "UF_CRM_ES_QTY", "USER_TYPE_ID": "string"}},
        )
        result = runner.invoke(args=["b24", "plan", "--portal", member_id, "--playbook", "eshop"])
        assert result.exit_code == 2
        assert "! conflict field deal:UF_CRM_ES_QTY" in result.output


def test_install_job_runs_the_real_installer(make_services):
    from b24emu.testing import running_emulator

    with running_emulator() as emu:
        services = make_services(emulator_address=emu.domain)
        runner = create_app(services=services).test_cli_runner()
        member_id = _connect(runner, emu)
        with services.session.begin() as s:
            inst.get(s, member_id).playbooks = ["b2b"]
        from app import services as registry

        registry.use(services)
        assert install_portal(member_id)["outcome"] == "ok"
        with services.session() as s:
            assert inst.get(s, member_id).status == "active"
        import requests

        cats = requests.post(emu.webhook_url() + "crm.category.list", json={"entityTypeId": 2})
        names = {c["name"] for c in cats.json()["result"]["categories"]}
        assert {"Продажи B2B", "Повторные продажи", "Холодные продажи"} <= names


def test_settings_command_shows_defaults_and_stores_typed_overrides(make_services):
    from b24emu.testing import running_emulator

    with running_emulator() as emu:
        services = make_services(emulator_address=emu.domain)
        runner = create_app(services=services).test_cli_runner()
        member_id = _connect(runner, emu)
        args = ["b24", "settings", "--portal", member_id, "--playbook", "furniture"]
        shown = runner.invoke(args=args)
        assert "escalate_after_hours = 3" in shown.output
        changed = runner.invoke(args=[*args, "--set", "escalate_after_hours=5"])
        assert changed.exit_code == 0 and "escalate_after_hours = 5" in changed.output
        bad = runner.invoke(args=[*args, "--set", "escalate_after_hours=soon"])
        assert bad.exit_code != 0 and "not a valid hours" in bad.output
        from app.playbooks.settings import all_effective

        with services.session() as s:
            assert (
                all_effective(s, member_id, ["furniture"])["furniture"]["escalate_after_hours"] == 5
            )


def test_apply_says_what_a_fresh_install_must_fill(make_services):
    """A fresh kitchens install lists the settings it cannot guess (measurers…)."""
    from b24emu.testing import running_emulator

    with running_emulator() as emu:
        services = make_services(emulator_address=emu.domain)
        runner = create_app(services=services).test_cli_runner()
        member_id = _connect(runner, emu)
        args = ["b24", "apply", "--portal", member_id, "--playbook", "kitchens"]
        applied = runner.invoke(args=args)
        assert applied.exit_code == 0, applied.output
        assert "to fill: kitchens: заполните «measurer_user_ids»" in applied.output
