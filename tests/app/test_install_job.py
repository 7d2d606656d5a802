"""install_portal: progress on the row, clear failure without an installer, and
webhook connect through the b24 CLI against the emulator."""

from __future__ import annotations

import sys
import types

import pytest

from app.jobs.install import install_portal
from app.store import installations as inst
from app.web import create_app

MEMBER = "c" * 32


def _store(services, **values):
    with services.session.begin() as s:
        inst.upsert_verified(
            s, MEMBER, domain="x.bitrix24.com", auth_mode="oauth", status="installing",
            playbooks=["metal", "eshop"], **values,
        )  # fmt: skip


def _row(services):
    with services.session() as s:
        return inst.get(s, MEMBER)


@pytest.fixture
def fake_installer(monkeypatch):
    calls = []
    package = types.ModuleType("app.installers")
    package.__path__ = []
    run = types.ModuleType("app.installers.run")

    def install_playbooks(services, member_id, names, progress):
        calls.append((member_id, list(names)))
        progress("fields: 3 created")
        if names == ["boom"]:
            raise ValueError("access_token=abcdefsecret rejected")
        return {"created": 3}

    run.install_playbooks = install_playbooks
    monkeypatch.setitem(sys.modules, "app.installers", package)
    monkeypatch.setitem(sys.modules, "app.installers.run", run)
    return calls


def test_without_installer_records_progress_and_raises(services, monkeypatch):
    monkeypatch.setitem(sys.modules, "app.installers.run", None)  # import fails
    _store(services)
    with pytest.raises(RuntimeError, match="installer not available"):
        install_portal(MEMBER)
    row = _row(services)
    assert row.install_progress == "installer not available"
    assert row.status == "installing"


def test_success_runs_the_installation_playbooks_and_activates(services, fake_installer):
    _store(services)
    result = install_portal(MEMBER)
    assert fake_installer == [(MEMBER, ["metal", "eshop"])]
    assert result["outcome"] == "ok"
    row = _row(services)
    assert (row.status, row.install_progress, row.last_error) == ("active", "done", "")


def test_failure_is_recorded_redacted_and_raised(services, fake_installer):
    _store(services)
    with services.session.begin() as s:
        inst.get(s, MEMBER).playbooks = ["boom"]
    with pytest.raises(ValueError):
        install_portal(MEMBER)
    row = _row(services)
    assert row.install_progress == "failed"
    assert "ValueError" in row.last_error and "abcdefsecret" not in row.last_error
    assert row.status == "installing"


def test_uninstalled_portal_is_skipped(services, fake_installer):
    _store(services, application_token="t")
    with services.session.begin() as s:
        inst.deactivate(s, MEMBER)
    assert install_portal(MEMBER)["outcome"] == "skipped"
    assert fake_installer == []


def test_cli_connect_stores_a_webhook_installation_and_enqueues(make_services):
    from b24emu.testing import running_emulator

    with running_emulator() as emu:
        services = make_services(emulator_address=emu.domain)
        hook = emu.webhook_url()
        runner = create_app(services=services).test_cli_runner()
        result = runner.invoke(args=["b24", "connect", "--webhook", hook, "--playbooks", "b2b"])
        assert result.exit_code == 0, result.output
        member_id = result.output.split("member_id=")[1].split()[0]
        with services.session() as s:
            row = inst.get(s, member_id)
            assert (row.auth_mode, row.webhook_url, row.domain) == ("webhook", hook, emu.domain)
            assert row.playbooks == ["b2b"] and row.user_id == "1"
        jobs = [(j.func_name, j.args) for j in services.queue("sync").get_jobs()]
        assert jobs == [("app.jobs.install.install_portal", [member_id])]
        # connecting the same webhook again updates the same row
        again = runner.invoke(args=["b24", "connect", "--webhook", hook, "--no-install"])
        assert f"member_id={member_id}" in again.output


def test_cli_connect_refuses_hosts_off_the_allow_list(make_services):
    services = make_services()
    runner = create_app(services=services).test_cli_runner()
    result = runner.invoke(args=["b24", "connect", "--webhook", "http://127.0.0.1:9/rest/1/abc/"])
    assert result.exit_code != 0
    assert "allow-list" in result.output
    with services.session() as s:
        assert s.query(inst.Installation).count() == 0


def test_cli_connect_with_a_wrong_webhook_code_stores_nothing(make_services):
    from b24emu.testing import running_emulator

    with running_emulator() as emu:
        services = make_services(emulator_address=emu.domain)
        forged = f"http://{emu.domain}/rest/1/not-the-code/"
        runner = create_app(services=services).test_cli_runner()
        result = runner.invoke(args=["b24", "connect", "--webhook", forged])
        assert result.exit_code != 0
        assert "refused" in result.output
        with services.session() as s:
            assert s.query(inst.Installation).count() == 0
        assert services.queue("sync").count == 0
