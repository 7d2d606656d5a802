"""The deployment files (Procfile, deploy/systemd/*.service, docker-compose.yml) name the same
commands, and those commands really start a working deployment.

Docker and systemd do not run here, so the test parses the files, checks they agree with one
another (web, worker, clock, and the migration run before them; PostgreSQL and Redis in the
compose file), then runs the Procfile's commands as a process manager would: the release
command migrates a blank temporary store, then web, worker and clock start against it and a
private redis-server. Each must come up: ``/healthz`` 200 with the worker seen, the worker
runs a job, the clock ticks; SIGTERM stops them all.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests
import yaml

from tests.support.private_redis import free_port, private_redis

REPO = Path(__file__).resolve().parents[2]
KINDS = ("migrate", "web", "worker", "clock")

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _expand(text: str, env: dict[str, str]) -> str:
    """``${VAR:-default}`` and ``$VAR`` as a shell (and honcho/foreman) expands them."""

    def repl(m: re.Match) -> str:
        name, default = m.group(1) or m.group(3), m.group(2)
        return env.get(name) or (default or "")

    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", repl, text)


def procfile(env: dict[str, str] | None = None) -> dict[str, list[str]]:
    kinds = {}
    for line in (REPO / "Procfile").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, command = line.split(":", 1)
        kinds["migrate" if name == "release" else name.strip()] = shlex.split(
            _expand(command, env or {})
        )
    return kinds


def systemd_units() -> dict[str, list[str]]:
    units = {}
    for path in sorted((REPO / "deploy/systemd").glob("b24-*.service")):
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str  # systemd keys are case-sensitive
        parser.read(path)
        kind = path.stem.removeprefix("b24-").rstrip("@")
        argv = shlex.split(parser["Service"]["ExecStart"])
        argv[0] = Path(argv[0]).name  # /opt/b24/.venv/bin/python → python
        units[kind] = argv
        assert parser["Service"]["EnvironmentFile"] == "/etc/b24/b24.env"
    return units


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def _without_bind(argv: list[str]) -> list[str]:
    out, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token == "-b":
            skip = True
        else:
            out.append(token)
    return out


def test_the_three_files_name_the_same_commands():
    services = compose()["services"]
    sources = {
        "Procfile": procfile(),
        "systemd": systemd_units(),
        "compose": {kind: services[kind]["command"] for kind in KINDS},
    }
    for name, kinds in sources.items():
        assert set(KINDS) <= set(kinds), (name, sorted(kinds))
    for kind in KINDS:
        commands = {name: _without_bind(kinds[kind]) for name, kinds in sources.items()}
        assert len({tuple(c) for c in commands.values()}) == 1, (kind, commands)
    assert procfile()["migrate"] == ["flask", "--app", "wsgi", "b24", "db", "upgrade"]


def test_compose_runs_postgres_and_redis_and_migrates_before_the_app():
    services = compose()["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    for kind in ("web", "worker", "clock"):
        env = services[kind]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["DATABASE_URL"].split("@", 1)[1].startswith("postgres:5432/")
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        needs = services[kind]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    build = services["web"]["build"]
    assert (REPO / build["context"] / build["dockerfile"]).is_file()


def _local(argv: list[str]) -> list[str]:
    """The command as this checkout runs it: the console scripts through this interpreter."""
    head, *rest = argv
    if head == "python":
        return [sys.executable, *rest]
    return [sys.executable, "-m", head, *rest]


def _start(argv, env, log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        _local(argv),
        cwd=REPO,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait(predicate, what: str, procs: dict, timeout: float = 40.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            assert proc.poll() is None, f"{name} exited with {proc.returncode}"
        result = predicate()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"{what} not within {timeout:.0f}s")


def test_procfile_commands_start_a_working_deployment(tmp_path):
    from rq import Queue, Worker
    from rq.serializers import JSONSerializer

    port = free_port()
    with private_redis(tmp_path / "redis") as redis_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("B24_", "TEST_"))}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env.update(
            DATABASE_URL=f"sqlite:///{tmp_path / 'store.db'}",
            REDIS_URL=redis_url,
            VAR_DIR=str(tmp_path / "var"),
            APP_BASE_URL=f"http://127.0.0.1:{port}",
            PORT=str(port),
            GUNICORN_WORKERS="1",
        )
        kinds = procfile(env)
        assert kinds["web"][kinds["web"].index("-b") + 1] == f"0.0.0.0:{port}"
        release = subprocess.run(  # noqa: S603
            _local(kinds["migrate"]), cwd=REPO, env=env, capture_output=True, text=True, check=False
        )
        assert release.returncode == 0 and "store is up to date" in release.stdout, release.stderr

        procs: dict[str, subprocess.Popen] = {}
        try:
            for kind in ("web", "worker", "clock"):
                procs[kind] = _start(kinds[kind], env, tmp_path / f"{kind}.log")
            conn = redis.Redis.from_url(redis_url)

            def healthy():
                try:
                    resp = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                except requests.RequestException:
                    return None
                body = resp.json()
                return (
                    body if resp.status_code == 200 and body["checks"]["workers"]["alive"] else None
                )

            body = _wait(healthy, "healthz 200 with a live worker", procs)
            assert body["checks"]["schema"] == {"ok": True}
            assert len(Worker.all(connection=conn)) == 1

            job = Queue("events", connection=conn, serializer=JSONSerializer).enqueue("os.getpid")
            _wait(lambda: job.refresh() or job.is_finished, "a job run by the worker", procs)
            assert job.return_value() == procs["worker"].pid  # SimpleWorker: in the process
            _wait(
                lambda: "timer clock started" in (tmp_path / "clock.log").read_text(),
                "the clock's first tick",
                procs,
            )
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
            codes = {}
            for kind, proc in procs.items():
                try:
                    codes[kind] = proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    codes[kind] = "killed"
        assert set(codes.values()) <= {0, -signal.SIGTERM}, codes
        logs = "".join((tmp_path / f"{k}.log").read_text() for k in procs)
        assert "Traceback" not in logs, logs[-3000:]
