"""``make run``: everything on one machine — web, workers, clock and (without a configured
portal) a local b24emu portal with the app installed through the real install flow.

    python -m app.devrun            # run until Ctrl-C
    python -m app.devrun --check    # start all, install, print URLs, stop (exit 1 on failure)
    make run APP_PORT=8010 EMU_PORT=8910 VAR_DIR=/tmp/second   # a second instance

Steps: refuse to start when a port is taken → migrate the store → start an embedded Redis
when REDIS_URL is unset → start the emulator when no portal is configured (B24_WEBHOOK_URL /
B24_CLIENT_ID unset), register the app there and write ``VAR_DIR/dev.env`` for the CLI →
start gunicorn, the workers and the clock (if ``app.timers.clock`` exists) → wait for
/healthz → install the app on the emulator (its installer frame POSTs to /install; a
configured webhook is connected instead) and wait until the playbooks are in → print the
member_id, the URLs and the commands to try. Every child runs in its own process group;
stopping sends SIGTERM to each group, then SIGKILL after a timeout. A child that dies
(during the install or later) stops everything with exit 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from app.devconfig import (
    read_install_state,
    remove_dev_env,
    taken_ports,
    wait_installed,
    welcome,
    write_dev_env,
)
from config.settings import Settings, SettingsError

log = logging.getLogger("app.devrun")
STOP_TIMEOUT_S = 10.0
# what the installer and the playbooks use (§8.12); the portal grants nothing else
APP_SCOPES = "crm,bizproc,placement,user_brief,user,department,task,im,userfieldconfig"
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None


class Supervisor:
    """Starts children in their own process groups and stops them all cleanly."""

    def __init__(self, base_env: dict[str, str]) -> None:
        self.base_env = base_env
        self.children: list[Child] = []

    def start(self, child: Child) -> Child:
        env = {**self.base_env, **child.env}
        child.proc = subprocess.Popen(child.argv, env=env, cwd=REPO_ROOT, start_new_session=True)  # noqa: S603
        self.children.append(child)
        log.info("started %s (pid %s)", child.name, child.proc.pid)
        return child

    def dead(self) -> list[Child]:
        return [c for c in self.children if c.proc is not None and c.proc.poll() is not None]

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM every group (reverse start order), SIGKILL what is left after ``timeout``."""
        for child in reversed(self.children):
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in reversed(self.children):
            try:
                child.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0fs: SIGKILL", child.name, timeout)
                _signal_group(child, signal.SIGKILL)
                child.proc.wait()
        self.children.clear()


def _signal_group(child: Child, sig: int) -> None:
    if child.proc is None or child.proc.poll() is not None:
        return
    try:
        os.killpg(child.proc.pid, sig)  # own session: pgid == pid
    except ProcessLookupError:
        pass


def child_processes(settings: Settings, *, clock_available: bool | None = None) -> list[Child]:
    """The app's processes for ``settings``: gunicorn, N workers, and the clock if present."""
    py = sys.executable
    host, port = _host_port(settings.app_base_url)
    children = [
        Child(
            "web",
            [py, "-m", "gunicorn", "-w", str(settings.gunicorn_workers), "-b", f"{host}:{port}"]
            + ["--graceful-timeout", "5", "--access-logfile", "-", "wsgi:app"],
        )
    ]
    for i in range(settings.worker_count):
        children.append(
            Child(
                f"worker-{i + 1}", [py, "-m", "app.worker", "--name", f"dev-{i + 1}-{os.getpid()}"]
            )
        )
    if clock_available is None:
        clock_available = _module_exists("app.timers.clock")
    if clock_available:
        children.append(Child("clock", [py, "-m", "app.timers.clock"]))
    else:
        log.info("app.timers.clock not present yet: no clock process")
    return children


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)


def wait_http(url: str, supervisor: Supervisor, timeout: float = 60.0) -> None:
    """Poll ``url`` until it answers 200; fail early when a child died."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        dead = supervisor.dead()
        if dead:
            raise RuntimeError(f"{', '.join(c.name for c in dead)} exited during start-up")
        try:
            resp = requests.get(url, timeout=2)
            if resp.status_code == 200:
                return
            last = f"HTTP {resp.status_code}: {resp.text[:200]}"
        except requests.RequestException as exc:
            last = type(exc).__name__
        time.sleep(0.3)
    raise RuntimeError(f"{url} not healthy after {timeout:.0f}s ({last})")


# --- emulator -----------------------------------------------------------------------------


def emulator_child(var: Path, port: int) -> Child | None:
    if not _module_exists("b24emu"):
        log.warning("b24emu is not available: no local portal")
        return None
    state = var / "b24emu" / "portal.pickle"
    state.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "b24emu", "serve", "--port", str(port), "--state", str(state)]
    return Child("b24emu", argv)


def dev_app_credentials(var: Path) -> dict[str, str]:
    """client_id/secret of the dev app, kept in var/ so restarts reuse the registration."""
    path = var / "devrun.json"
    if path.is_file():
        return json.loads(path.read_text())
    creds = {
        "client_id": f"local.{secrets.token_hex(7)}.{secrets.randbelow(10**8):08d}",
        "client_secret": secrets.token_urlsafe(32),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(creds))
    path.chmod(0o600)
    return creds


def register_on_emulator(emu_base: str, app_base: str, creds: dict[str, str]) -> dict:
    """Register the app on the emulator unless already there; return its admin record."""
    admin = f"{emu_base}/_emu/"
    apps = requests.get(admin + "apps", timeout=10).json()
    for app in apps:
        if app["client_id"] == creds["client_id"]:
            return app
    spec = {
        **creds,
        "installer_url": f"{app_base}/install",
        # the app's main frame (placement DEFAULT): the settings page opens here
        "handler_url": f"{app_base}/",
        "scopes": APP_SCOPES,
        # ONAPPINSTALL goes here after installFinish (update/uninstall: bound by the installer)
        "install_event_url": f"{app_base}/app-events",
    }
    resp = requests.post(admin + "apps", json=spec, timeout=10)
    resp.raise_for_status()
    return resp.json()


def install_on_emulator(emu_base: str, client_id: str) -> dict:
    """The admin "installs" the app: the emulator POSTs its installer frame to /install."""
    resp = requests.post(f"{emu_base}/_emu/apps/{client_id}/install", json={}, timeout=60)
    resp.raise_for_status()
    return resp.json()


def wait_port(url: str, supervisor: Supervisor, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if supervisor.dead():
            raise RuntimeError("the emulator exited during start-up")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {timeout:.0f}s")


# --- orchestration ------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m app.devrun", description="run everything locally"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="start, install, print URLs, stop; exit 1 if anything failed or died",
    )
    parser.add_argument(
        "--emu-port",
        type=int,
        default=_env_port("EMU_PORT", 8900),
        help="port of the local portal (env EMU_PORT; default 8900)",
    )
    parser.add_argument(
        "--app-port",
        type=int,
        default=_env_port("APP_PORT", None),
        help="port of the app (env APP_PORT; default: the port of APP_BASE_URL, 8000)",
    )
    parser.add_argument("--stop-timeout", type=float, default=STOP_TIMEOUT_S)
    return parser.parse_args(argv)


def _env_port(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SystemExit(f"{name}={raw!r}: expected a port number (1-65535)")
    return int(raw)


def _with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f"{parts.hostname or '127.0.0.1'}:{port}").geturl()


def _raise_interrupt(signum, frame):  # SIGTERM → the same clean path as Ctrl-C
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    from config.logging import configure_logging

    args = parse_args(argv)
    try:
        # not the dev.env an earlier run wrote: its dev app would look like a configured portal
        settings = Settings.from_env(dev_config=False)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    env = dict(os.environ)
    if args.app_port:
        settings = dataclasses.replace(
            settings, app_base_url=_with_port(settings.app_base_url, args.app_port)
        )
        env["APP_BASE_URL"] = settings.app_base_url
    taken = taken_ports(_ports(settings, args))
    if taken:
        print(
            f"Not starting: port already in use: {'; '.join(taken)}. Stop what uses it, or "
            "move ours: make run APP_PORT=8010 EMU_PORT=8910",
            file=sys.stderr,
        )
        return 2
    configure_logging(settings)
    # set both explicitly: a process started in the background inherits SIGINT ignored
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    supervisor = Supervisor(env)
    try:
        return _run(settings, args, env, supervisor)
    except KeyboardInterrupt:
        log.info("stopping…")
        return 0
    except RuntimeError as exc:
        log.error("%s", exc)
        return 1
    finally:
        supervisor.stop(args.stop_timeout)


def _ports(settings: Settings, args: argparse.Namespace) -> dict[str, tuple[str, int]]:
    ports = {"app (APP_PORT)": _host_port(settings.app_base_url)}
    if not settings.portal_configured:
        ports["local portal (EMU_PORT)"] = ("127.0.0.1", args.emu_port)
    return ports


def _run(settings: Settings, args: argparse.Namespace, env: dict, supervisor: Supervisor) -> int:
    from app.services import embedded_redis_url
    from app.store.migrate import upgrade

    var = Path(settings.var_dir).resolve()
    var.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    if not settings.redis_url:
        env["REDIS_URL"] = embedded_redis_url(settings)
        log.info("REDIS_URL unset: embedded Redis at %s", env["REDIS_URL"])
    metrics_dir = var / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)

    emu_base, registered = None, None
    if not settings.portal_configured:
        child = emulator_child(var, args.emu_port)
        if child is not None:
            supervisor.start(child)
            emu_base = f"http://127.0.0.1:{args.emu_port}"
            wait_port(f"{emu_base}/_emu/", supervisor)
            creds = dev_app_credentials(var)
            dev = {
                "EMULATOR_ADDRESS": f"127.0.0.1:{args.emu_port}",
                "BX24_JS_URL": f"{emu_base}/_emu/bx24.js",
                "B24_CLIENT_ID": creds["client_id"],
                "B24_CLIENT_SECRET": creds["client_secret"],
            }
            env.update(dev)
            registered = register_on_emulator(emu_base, settings.app_base_url, creds)
            path = write_dev_env(var, {**dev, "APP_BASE_URL": settings.app_base_url})
            log.info("dev configuration for the CLI written to %s", path)
    else:
        remove_dev_env(var)

    for child in child_processes(settings):
        supervisor.start(child)
    wait_http(f"{settings.app_base_url}/healthz", supervisor)

    member_id, domain = None, None
    if emu_base and registered is not None:
        info = requests.get(f"{emu_base}/_emu/info", timeout=10).json()
        member_id, domain = info["member_id"], info["domain"]
        reader = read_install_state(settings.database_url, member_id)
        if registered.get("installed") and reader().status == "active":
            log.info("app already installed on the local portal")
        else:
            outcome = install_on_emulator(emu_base, registered["client_id"])
            installer = outcome.get("installer") or {}
            if installer.get("status") != 200:
                raise RuntimeError(f"install on the local portal failed: {installer}")
            log.info("installer frame accepted by the app; waiting for the playbooks")
        _wait_installed(reader, supervisor)
    elif settings.b24_webhook_url:
        member_id = _connect_configured_webhook(settings, env)
        _wait_installed(read_install_state(settings.database_url, member_id), supervisor)
    if member_id:
        _read_people(env, member_id)

    print(
        welcome(
            app_base=settings.app_base_url,
            emu_base=emu_base,
            member_id=member_id,
            domain=domain,
            playbooks=settings.playbooks,
            var_dir=settings.var_dir,
            default_var_dir=settings.var_dir == Settings.var_dir,
        ),
        flush=True,
    )
    if args.check:
        # /metrics aggregates every process's files: proves the multiprocess set-up works
        resp = requests.get(f"{settings.app_base_url}/metrics", timeout=10)
        if resp.status_code != 200 or "b24app_http_requests_total" not in resp.text:
            raise RuntimeError(f"/metrics is not served correctly (HTTP {resp.status_code})")
        _fail_if_dead(supervisor)
        return 0
    while True:
        _fail_if_dead(supervisor)
        time.sleep(0.5)


def _wait_installed(reader, supervisor: Supervisor) -> None:
    state = wait_installed(reader, lambda: [c.name for c in supervisor.dead()])
    log.info("playbooks installed (%s)", state.progress or state.status)


def _read_people(env: dict, member_id: str) -> None:
    """People's names and the portal's clock, so the first page already shows names."""
    from datetime import UTC, datetime

    from app import people
    from app.portal.errors import PortalError
    from app.services import Services

    services = Services(Settings.from_env(environ=env, dev_config=False))
    try:
        people.refresh(services.session, services.portal(member_id), member_id, datetime.now(UTC))
    except PortalError as exc:
        log.warning("people's names not read yet (%s): the next sync reads them", exc)
    finally:
        services.close()


def _fail_if_dead(supervisor: Supervisor) -> None:
    dead = supervisor.dead()
    if dead:
        codes = ", ".join(f"{c.name} (exit {c.proc.returncode})" for c in dead)
        raise RuntimeError(f"{codes} exited; stopping everything")


def _connect_configured_webhook(settings: Settings, env: dict) -> str:
    from app.cli.connect import connect_webhook
    from app.services import Services

    services = Services(dataclasses.replace(settings, redis_url=env.get("REDIS_URL")))
    try:
        member_id = connect_webhook(services, settings.b24_webhook_url)
        log.info("B24_WEBHOOK_URL connected as %s; installer enqueued", member_id)
        return member_id
    finally:
        services.close()


if __name__ == "__main__":
    sys.exit(main())
