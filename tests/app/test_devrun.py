"""devrun orchestration: process plan, clean stop with escalation, and one --check run that
starts the emulator, gunicorn and a worker, installs through the real flow, and exits."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from app import devrun
from config.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_plan_has_web_workers_and_clock_only_when_present():
    settings = Settings(app_base_url="http://127.0.0.1:8123", worker_count=3, gunicorn_workers=2)
    with_clock = devrun.child_processes(settings, clock_available=True)
    without = devrun.child_processes(settings, clock_available=False)
    assert [c.name for c in with_clock] == ["web", "worker-1", "worker-2", "worker-3", "clock"]
    assert [c.name for c in without] == ["web", "worker-1", "worker-2", "worker-3"]
    web = with_clock[0].argv
    assert web[web.index("-b") + 1] == "127.0.0.1:8123" and web[web.index("-w") + 1] == "2"


def test_stop_escalates_to_sigkill_for_a_child_ignoring_sigterm():
    sup = devrun.Supervisor(dict(os.environ))
    stubborn = "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    child = devrun.Child("stubborn", [sys.executable, "-c", stubborn])
    sup.start(child)
    time.sleep(0.5)  # let it install its handler
    sup.stop(timeout=1.0)
    assert child.proc.returncode == -signal.SIGKILL
    assert sup.children == []


def test_stop_terminates_a_well_behaved_child_with_sigterm():
    sup = devrun.Supervisor(dict(os.environ))
    child = sup.start(
        devrun.Child("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"])
    )
    sup.stop(timeout=5.0)
    assert child.proc.returncode == -signal.SIGTERM


@pytest.mark.e2e
@pytest.mark.slow
def test_check_mode_starts_everything_installs_on_emulator_and_stops(tmp_path, redis_url):
    from sqlalchemy import create_engine, text

    web_port, emu_port = free_port(), free_port()
    db = tmp_path / "app.db"
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{db}",
        "APP_BASE_URL": f"http://127.0.0.1:{web_port}",
        "REDIS_URL": redis_url,
        "WORKER_COUNT": "1",
        "GUNICORN_WORKERS": "1",
    }
    for name in ("B24_WEBHOOK_URL", "B24_CLIENT_ID", "B24_CLIENT_SECRET", "EMULATOR_ADDRESS"):
        env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-m", "app.devrun", "--check", "--emu-port", str(emu_port)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"http://127.0.0.1:{web_port}/healthz" in proc.stdout
    assert f"http://127.0.0.1:{emu_port}/rest/" in proc.stdout
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT domain, status FROM installations")).all()
    engine.dispose()
    # the emulator's installer frame reached /install and the verified installation was stored
    assert [r[0] for r in rows] == [f"127.0.0.1:{emu_port}"]
    # everything was stopped: neither the app nor the portal answers any more
    for port in (web_port, emu_port):
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/", timeout=2)


def _devrun_env(tmp_path, web_port: int) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT")
    }
    env.update(VAR_DIR=str(tmp_path / "var"), WORKER_COUNT="1", GUNICORN_WORKERS="1")
    env["APP_PORT"] = str(web_port)
    return env


def test_a_taken_port_is_reported_before_anything_starts(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "app.devrun", "--check", "--emu-port", str(free_port())],
            cwd=REPO,
            env=_devrun_env(tmp_path, port),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2
    assert f"app (APP_PORT) (127.0.0.1:{port})" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "var").exists()  # nothing was started or created


@pytest.mark.e2e
@pytest.mark.slow
def test_check_fails_when_a_worker_is_killed_mid_install(tmp_path):
    """The worker running install_portal is SIGKILLed: --check must exit 1, not 0."""
    import re
    import threading

    web_port, emu_port = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.devrun", "--check", "--emu-port", str(emu_port)],
        cwd=REPO,
        env=_devrun_env(tmp_path, web_port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    killed = threading.Event()

    def watch() -> None:
        worker_pid = None
        for line in proc.stderr:
            lines.append(line)
            found = re.search(r"started worker-1 \(pid (\d+)\)", line)
            if found:
                worker_pid = int(found.group(1))
            if "started b24emu" in line:
                # slow the portal down so the install is still running when the worker dies
                for _ in range(50):
                    try:
                        requests.post(
                            f"http://127.0.0.1:{emu_port}/_emu/faults",
                            json={"latency": 0.2},
                            timeout=2,
                        )
                        break
                    except requests.RequestException:
                        time.sleep(0.1)
            if "installing playbooks" in line and worker_pid and not killed.is_set():
                os.killpg(worker_pid, signal.SIGKILL)  # the worker and its work horse
                killed.set()

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    try:
        code = proc.wait(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=5)
    text = "".join(lines)
    assert killed.is_set(), text[-3000:]
    assert code == 1, text[-3000:]
    assert "worker-1 exited" in text
