"""What ``make run`` leaves for a second terminal, and what it checks before starting.

* :func:`write_dev_env` — ``VAR_DIR/dev.env``: the local portal's address, the dev app's
  credentials and the app's URL. ``Settings.from_env`` reads it after the environment and
  ``./.env``, so ``flask --app wsgi b24 …`` works with nothing exported.
* :func:`taken_ports` — ports already in use, checked before anything starts.
* :func:`wait_installed` — waits until the install job finished (or failed, or a process
  died), so ``--check`` never reports success over a half-installed portal.
* :func:`welcome` — the text ``make run`` prints: member_id, what to open, what to try next.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from config.settings import DEV_ENV_FILE

DEV_ENV_HEADER = (
    "# Written by `make run` (python -m app.devrun) for the local b24emu portal.\n"
    "# The CLI reads it after the environment and ./.env; delete it to forget that portal.\n"
)
INSTALL_TIMEOUT_S = 300.0


def write_dev_env(var: Path, values: dict[str, str]) -> Path:
    """Write ``var/dev.env`` (mode 0600: it holds the dev app's secret) and return its path."""
    path = var / DEV_ENV_FILE
    body = DEV_ENV_HEADER + "".join(f"{k}={v}\n" for k, v in values.items())
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.chmod(0o600)
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(path)  # never a half-written file for a CLI reading it now
    return path


def remove_dev_env(var: Path) -> None:
    """A configured real portal replaces the local one: forget the emulator's dev.env."""
    (var / DEV_ENV_FILE).unlink(missing_ok=True)


def taken_ports(ports: dict[str, tuple[str, int]]) -> list[str]:
    """``name (host:port)`` for every port something already listens on."""
    taken = []
    for name, (host, port) in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # SO_REUSEADDR: a port in TIME_WAIT from the last run is free, a LISTEN one is not
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                taken.append(f"{name} ({host}:{port})")
    return taken


@dataclass(frozen=True)
class InstallState:
    status: str  # installing / active / needs_reinstall / uninstalled / missing
    progress: str
    error: str


class InstallFailed(RuntimeError):
    """The playbook install failed, stalled, or a process it needs died."""


def wait_installed(
    read: Callable[[], InstallState],
    dead: Callable[[], list[str]],
    timeout: float = INSTALL_TIMEOUT_S,
    poll: float = 0.5,
) -> InstallState:
    """Poll ``read`` until the installation is ``active``.

    Raises :class:`InstallFailed` when the install job recorded a failure, when any started
    process died meanwhile (``dead`` names them: a worker killed mid-install leaves the
    portal ``installing`` forever), or after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    state = read()
    while time.monotonic() < deadline:
        gone = dead()
        if gone:
            raise InstallFailed(f"{', '.join(gone)} exited while the playbooks were installing")
        state = read()
        if state.status == "active":
            return state
        if state.progress == "failed" or state.status in ("needs_reinstall", "uninstalled"):
            raise InstallFailed(f"playbook install failed: {state.error or state.status}")
        time.sleep(poll)
    raise InstallFailed(
        f"playbook install not finished after {timeout:.0f}s "
        f"(status {state.status}, {state.progress or 'no progress'})"
    )


def read_install_state(database_url: str, member_id: str) -> Callable[[], InstallState]:
    """A reader of one installation's status from the store (its own short sessions)."""
    from app.store import installations
    from app.store.db import make_engine, session_factory

    sessions = session_factory(make_engine(database_url))

    def read() -> InstallState:
        with sessions() as session:
            row = installations.get(session, member_id)
            if row is None:
                return InstallState("missing", "", "")
            return InstallState(row.status, row.install_progress or "", row.last_error or "")

    return read


def welcome(
    *,
    app_base: str,
    emu_base: str | None,
    member_id: str | None,
    domain: str | None,
    playbooks: tuple[str, ...],
    var_dir: str,
    default_var_dir: bool,
) -> str:
    """What ``make run`` prints once everything is up."""
    prefix = "" if default_var_dir else f"VAR_DIR={var_dir} "
    flask = f"{prefix}.venv/bin/flask --app wsgi b24"
    lines = ["", "The app is running."]
    if member_id:
        name = f"{domain} (local b24emu)" if emu_base else "connected from B24_WEBHOOK_URL"
        lines.append(f"  portal:        {name}   member_id {member_id}")
    lines += [
        f"  open the app:  {app_base}/   (what it is and how a portal opens it)",
        f"  installer:     {app_base}/install   (the portal posts its frame here)",
        f"  health:        {app_base}/healthz   metrics: {app_base}/metrics",
    ]
    if emu_base:
        lines.append(f"  local portal:  {emu_base}/_emu/info   (b24emu admin, JSON)")
    if member_id:
        playbook = playbooks[0] if playbooks else "metal"
        lines += [
            "",
            "Next, in a second terminal (nothing to export; --portal takes the member_id or"
            " the domain):",
            f"  {flask} plan --portal {member_id}",
            f"  {flask} settings --portal {member_id} --playbook {playbook}",
        ]
        if emu_base:
            port = emu_base.rsplit(":", 1)[1]
            lines.append(f"  .venv/bin/python -m b24emu seed --port {port} --leads 20")
        lines.append(f"  {flask} sync --portal {member_id}")
        if "metal" in playbooks:
            lines.append(f"  {flask} report lead_sources --portal {member_id}")
    lines.append("Press Ctrl-C to stop everything.\n")
    return "\n".join(lines)
