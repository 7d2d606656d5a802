"""What ``make run`` checks before starting and leaves behind: ports, install wait, dev.env."""

from __future__ import annotations

import socket
import stat

import pytest

from app import devconfig
from app.devconfig import InstallFailed, InstallState, wait_installed
from config.settings import Settings


def test_a_listening_port_is_reported_and_a_free_one_is_not():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken_port = busy.getsockname()[1]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            free_port = probe.getsockname()[1]
        taken = devconfig.taken_ports(
            {"app (APP_PORT)": ("127.0.0.1", taken_port), "portal": ("127.0.0.1", free_port)}
        )
    assert taken == [f"app (APP_PORT) (127.0.0.1:{taken_port})"]


def _reader(*states):
    seq = list(states)
    return lambda: seq.pop(0) if len(seq) > 1 else seq[0]


def test_wait_installed_returns_once_active():
    read = _reader(InstallState("installing", "queued", ""), InstallState("active", "done", ""))
    assert wait_installed(read, lambda: [], timeout=5, poll=0.01).status == "active"


def test_wait_installed_fails_when_a_process_dies_mid_install():
    """A worker killed mid-install leaves the portal ``installing``: that is a failure."""
    with pytest.raises(InstallFailed, match="worker-1 exited"):
        wait_installed(
            _reader(InstallState("installing", "applying", "")), lambda: ["worker-1"], timeout=5
        )


def test_wait_installed_fails_on_a_recorded_failure_and_on_timeout():
    failed = InstallState("installing", "failed", "InvalidField: bad stage")
    with pytest.raises(InstallFailed, match="bad stage"):
        wait_installed(_reader(failed), lambda: [], timeout=5, poll=0.01)
    with pytest.raises(InstallFailed, match="not finished"):
        wait_installed(
            _reader(InstallState("installing", "queued", "")), lambda: [], timeout=0.05, poll=0.01
        )


def test_dev_env_is_private_and_read_back_by_settings(tmp_path):
    path = devconfig.write_dev_env(
        tmp_path,
        {"EMULATOR_ADDRESS": "127.0.0.1:8911", "B24_CLIENT_ID": "a", "B24_CLIENT_SECRET": "s"},
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    settings = Settings.from_env({"VAR_DIR": str(tmp_path)})
    assert settings.emulator_address == "127.0.0.1:8911"
    devconfig.remove_dev_env(tmp_path)
    assert not path.exists()


def test_welcome_names_the_member_id_what_to_open_and_what_to_try():
    text = devconfig.welcome(
        app_base="http://127.0.0.1:8010",
        emu_base="http://127.0.0.1:8910",
        member_id="m" * 32,
        domain="127.0.0.1:8910",
        playbooks=("kitchens",),
        var_dir="/tmp/second",
        default_var_dir=False,
    )
    assert "member_id " + "m" * 32 in text
    assert "http://127.0.0.1:8010/ " in text
    assert f"VAR_DIR=/tmp/second .venv/bin/flask --app wsgi b24 plan --portal {'m' * 32}" in text
    assert "--playbook kitchens" in text
    assert "b24emu seed --port 8910" in text
    assert "report lead_sources" not in text  # metal is not installed there
