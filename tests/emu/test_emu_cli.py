"""``python -m b24emu serve``: prints its URLs, keeps state across restarts with --state."""

import subprocess
import sys
import time

import requests

from b24emu.testing import free_port


def _start(port, state):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "b24emu",
            "serve",
            "--port",
            str(port),
            "--webhook",
            "1/clihook",
            "--state",
            str(state),
            "--limits",
            "off",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    lines = [proc.stdout.readline() for _ in range(5)]
    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/_emu/info", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    return proc, lines


def test_serve_prints_urls_and_state_survives_restart(tmp_path):
    port = free_port()
    state = tmp_path / "portal.pkl"
    proc, lines = _start(port, state)
    try:
        assert lines[0].strip() == f"webhook:  http://127.0.0.1:{port}/rest/1/clihook/"
        assert any(
            line.startswith("oauth:") and line.strip().endswith("/oauth/token/") for line in lines
        )
        assert any(line.startswith("admin:") for line in lines)
        app = requests.post(f"http://127.0.0.1:{port}/_emu/apps", json={"scopes": ["crm"]}).json()
    finally:
        proc.terminate()
        proc.wait(10)
    proc, _ = _start(port, state)
    try:
        apps = requests.get(f"http://127.0.0.1:{port}/_emu/apps").json()
        assert [a["client_id"] for a in apps] == [app["client_id"]]
        assert requests.post(f"http://127.0.0.1:{port}/rest/1/clihook/profile").status_code == 200
    finally:
        proc.terminate()
        proc.wait(10)
