"""The whole stack as ``make run`` starts it, for the latency and fairness benchmarks.

A private ``redis-server``, a fresh SQLite store, the Procfile's processes (gunicorn with
``gunicorn.conf.py``, ``--workers`` RQ workers, the clock) and one emulator per portal with
the cloud limits on (burst 50, then 2 requests/s; ``b24emu.config``), each portal with our
app installed through the real install flow. Process handling is ``bench.chaos``'s.
"""

from __future__ import annotations

import os
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from bench.chaos import _MIGRATE_LOCK, Deployment, _wait_installed, wait_http

HEAD = 1  # metal's head of sales (the default responsible of web-form leads)


@dataclass
class Portal:
    emu: Any
    member_id: str
    naming: Any
    data_complete: str = ""


@dataclass
class Stack:
    conn: redis.Redis
    services: Any
    deployment: Deployment
    portals: list[Portal] = field(default_factory=list)

    def busy(self) -> int:
        """Jobs queued or running, and portals with records waiting (the dirty sets)."""
        from rq import Queue
        from rq.registry import StartedJobRegistry
        from rq.serializers import JSONSerializer

        from app.queues import QUEUES

        out = 0
        for name in QUEUES:
            q = Queue(name, connection=self.conn, serializer=JSONSerializer)
            out += q.count + StartedJobRegistry(queue=q).count
        return out + sum(1 for _ in self.conn.scan_iter("b24:dirty:*"))


def lead(portal: Portal, n: int) -> int:
    """A web-form lead with complete dimensions on a site of its own (metal)."""
    return int(portal.emu.admin.post("crm/lead", lead_body(portal, n))["id"])


def lead_body(portal: Portal, n: int) -> dict:
    """The admin API's body for :func:`lead`."""
    uf = lambda code: portal.naming.field_name("lead", code)  # noqa: E731
    fields = {
        uf("UF_CRM_MT_WIDTH"): 12 + n % 7,
        uf("UF_CRM_MT_LENGTH"): 30,
        uf("UF_CRM_MT_HEIGHT"): 6,
        uf("UF_CRM_MT_SITE"): f"Казань, участок {n}",
        uf("UF_CRM_MT_PURPOSE"): portal.naming.enum_id(
            "UF_CRM_MT_PURPOSE", "warehouse", entity="lead"
        ),
    }
    return {"source": "webform", "user_id": 1, "email": f"c{n}@mail.ru", "fields": fields}


def visible(portal: Portal, lead_id: int) -> bool:
    """The automation shows on the lead: stage «Данные заполнены», the head of sales as
    responsible, the generated title (written in one batch with area and the Object)."""
    try:
        row = portal.emu.portal.crm.get_item(1, lead_id)
    except Exception:  # noqa: BLE001 - not there yet
        return False
    return (
        row.get("stageId") == portal.data_complete
        and str(row.get("title") or "").startswith("Веб-форма")
        and int(row.get("assignedById") or 0) == HEAD
    )


def offline_rows(portal: Portal) -> int:
    return len(portal.emu.portal.core.offline)


def requests_since_reset(portal: Portal) -> tuple[int, list[str]]:
    log = portal.emu.admin.requests_log(limit=100_000)
    return int(log.get("total_http") or 0), [row["method"] for row in log.get("log") or []]


class RemoteEmu:
    """An emulator in its own process (``python -m b24emu serve``): a busy portal's CPU
    (its batches, its thousands of event POSTs) must not starve the other emulated portals
    sharing this process's interpreter — on a real cloud they are separate servers."""

    def __init__(self, workdir: Path) -> None:
        import subprocess
        import sys

        from b24emu.testing import AdminClient, free_port

        self.port = free_port()
        self.domain = f"127.0.0.1:{self.port}"
        self.base_url = f"http://{self.domain}"
        log = (workdir / f"emu-{self.port}.log").open("a")
        argv = [sys.executable, "-m", "b24emu", "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(  # noqa: S603
            [*argv, "--limits", "standard"], stdout=log, stderr=log, start_new_session=True
        )
        self.admin = AdminClient(self.base_url)
        self.portal = None
        deadline = time.monotonic() + 60
        while True:
            try:
                self.member_id = self.admin.get("info")["member_id"]
                break
            except Exception:  # noqa: BLE001 - still starting
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


def visible_remote(portal: Portal, lead_ids: list[int]) -> bool:
    """:func:`visible` for every lead of a portal served by a :class:`RemoteEmu`."""
    rows = {int(r["id"]): r for r in portal.emu.admin.get("crm/items", entity_type_id=1)}
    return all(
        (row := rows.get(i)) is not None
        and row.get("stageId") == portal.data_complete
        and str(row.get("title") or "").startswith("Веб-форма")
        for i in lead_ids
    )


@contextmanager
def running_stack(
    workdir: Path, *, portals: int = 1, workers: int = 2, playbooks="metal", remote: int = 0
):
    """Start everything, install the app on ``portals`` emulated portals (the first
    ``remote`` of them each in its own process); yields a Stack."""
    from app.devrun import install_on_emulator, register_on_emulator
    from app.services import Services
    from app.store.migrate import upgrade
    from app.sync.context import portal_context
    from b24emu.config import LIMIT_PROFILES
    from b24emu.testing import free_port, running_emulator
    from config.settings import Settings
    from tests.support.private_redis import private_redis

    workdir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        redis_url = stack.enter_context(private_redis(workdir / "redis"))
        # the cloud limits on the portal side (running_emulator's test default is off)
        cloud = LIMIT_PROFILES["standard"]
        emus = []
        for _ in range(remote):
            emus.append(RemoteEmu(workdir))
            stack.callback(emus[-1].stop)
        emus += [stack.enter_context(running_emulator(**cloud)) for _ in range(portals - remote)]
        db_url = f"sqlite:///{workdir / 'store.db'}"
        with _MIGRATE_LOCK:
            upgrade(db_url)
        port = free_port()
        app_base = f"http://127.0.0.1:{port}"
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("B24_", "TEST_", "PROMETHEUS"))
        }
        env.update(
            DATABASE_URL=db_url,
            REDIS_URL=redis_url,
            VAR_DIR=str(workdir / "var"),
            APP_BASE_URL=app_base,
            EMULATOR_ADDRESS=",".join(e.domain for e in emus),
            PLAYBOOKS=playbooks,
            B24_CLIENT_ID=f"local.bench{os.getpid()}.{port}",
            B24_CLIENT_SECRET=f"bench-{port}",
            LOG_LEVEL="WARNING",
        )
        deployment = Deployment(workdir, env, port, workers)
        stack.callback(deployment.stop_all)
        deployment.start_all()
        wait_http(f"{app_base}/healthz", deployment=deployment)
        services = Services(
            Settings(
                database_url=db_url,
                redis_url=redis_url,
                var_dir=str(workdir / "var"),
                emulator_address=",".join(e.domain for e in emus),
            )
        )
        stack.callback(services.close)
        creds = {"client_id": env["B24_CLIENT_ID"], "client_secret": env["B24_CLIENT_SECRET"]}
        out = Stack(redis.Redis.from_url(redis_url), services, deployment)
        # every install comes from this one address: keep under the app's own pre-auth rate
        # limit (app.ratelimit: LIMIT requests a WINDOW_S per client), as a hundred real
        # portals, each from its own address, would never meet it
        from app import ratelimit

        pace = (
            ratelimit.WINDOW_S / (ratelimit.LIMIT - 10) if len(emus) > ratelimit.LIMIT // 2 else 0
        )
        for emu in emus:
            time.sleep(pace)
            registered = register_on_emulator(f"http://{emu.domain}", app_base, creds)
            outcome = install_on_emulator(f"http://{emu.domain}", registered["client_id"])
            if (outcome.get("installer") or {}).get("status") != 200:
                raise RuntimeError(f"install failed: {outcome}")
        for emu in emus:
            member_id = emu.member_id if emu.portal is None else emu.portal.member_id
            _wait_installed(services, member_id, timeout=300)
            naming = portal_context(services, member_id).naming
            portal = Portal(emu, member_id, naming)
            portal.data_complete = naming.stage_id("lead", "metal.lead.data_complete")
            out.portals.append(portal)
        wait_quiet(out, timeout=300)
        yield out


def wait_quiet(stack: Stack, *, timeout: float, quiet_for: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    since = None
    while time.monotonic() < deadline:
        pending = any(not p.emu.portal.runtime.outbox.idle() for p in stack.portals if p.emu.portal)
        if stack.busy() or pending:
            since = None
        else:
            since = since or time.monotonic()
            if time.monotonic() - since >= quiet_for:
                return True
        time.sleep(0.2)
    return False


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
