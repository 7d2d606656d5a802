"""Chaos run: the metal and kitchens scenarios on one portal, once fault-free and once under
faults, then the two final portal states compared record by record.

    .venv/bin/python -m bench.chaos                       # 200 leads, the issue's settings
    .venv/bin/python -m bench.chaos --leads 20 --kill-every 10

Each run is a real deployment: a private ``redis-server`` on a free port (never the
machine's), a fresh SQLite store migrated by ``b24 db upgrade``, the emulator (in this
process), and the Procfile's processes — gunicorn (``wsgi:app``), ``--workers`` RQ workers
and the clock. The app is installed through the real install flow (the portal posts its
installer frame to ``/install``) with ``PLAYBOOKS=metal,kitchens``.

The scenario runs in phases (employees create leads; fill in or hand them over; qualify or
convert; convert) and waits between phases until the system is idle. The chaos run adds:
``--error-rate`` of the portal's REST answers failing (503, 500 and timeouts in equal
shares, ``b24emu/faults.py``; ``--after-share`` of the 500s and timeouts strike after the
portal applied the call, so the write is made and its answer lost), a worker SIGKILLed every ``--kill-every`` seconds (and
started again), the web process restarted once (phase 2) and Redis flushed once (phase 3).
Both runs end the same way: faults off, the clock restarted (its start-up forces the offline
catch-up and the reconciliation), idle again. Then every record, activity, comment, task,
checklist item and notification of the two portals is compared (volatile fields and the ids
of records the app created are left out; app-created records are matched by content).

Identical = no lost, doubled or half-applied automation, no message sent twice. Numbers go
to stdout (and ``--json FILE``); ``bench/RESULTS.md`` keeps a recorded run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import requests

ROOT = Path(__file__).resolve().parents[1]
MANAGER = 3
LEAD, DEAL = 1, 2
PLAYBOOKS = "metal,kitchens"
_MIGRATE_LOCK = threading.Lock()
SCOPES = "crm,bizproc,placement,user_brief,user,department,task,im,userfieldconfig"


@dataclass
class Chaos:
    error_rate: float = 0.0
    error_kinds: tuple[str, ...] = ("503", "500", "timeout")  # equal shares of error_rate
    # share of the 500s/timeouts that strike after the portal ran the call (its writes stay,
    # the answer is lost) — what a real portal can do; 503 refusals always come before
    after_share: float = 0.5
    kill_every: float = 0.0  # seconds; 0 = never
    kill_between_phases: bool = False  # SIGKILL a (then idle) worker after each phase
    restart_web: bool = False
    flush_redis: bool = False
    seed: int = 7

    @property
    def any(self) -> bool:
        return bool(
            self.error_rate
            or self.kill_every
            or self.kill_between_phases
            or self.restart_web
            or self.flush_redis
        )


@dataclass
class Stats:
    kills: int = 0
    web_restarts: int = 0
    redis_flushes: int = 0
    abandoned_requeued: int = 0
    failed_jobs: int = 0
    phase_seconds: list = field(default_factory=list)
    idle_timeouts: int = 0
    rest_requests: int = 0
    rest_errors_injected: int = 0
    # per phase barrier: scenario leads the app's mirror had not caught up with when the
    # system was counted idle (not seen at all, or at another stage than the portal's)
    lagging: list = field(default_factory=list)
    # what the jobs failed for good were (function and last error line), read before the
    # run's private Redis goes: "failed for good" alone cannot tell a loss from a harmless one
    failed_detail: list = field(default_factory=list)


# --- processes ----------------------------------------------------------------------------


class Deployment:
    """The Procfile's processes against one store, one Redis, one portal."""

    def __init__(self, workdir: Path, env: dict[str, str], port: int, workers: int) -> None:
        self.workdir, self.env, self.port, self.n_workers = workdir, env, port, workers
        self.procs: dict[str, subprocess.Popen] = {}
        self._seq = 0
        self._lock = threading.Lock()

    def _start(self, name: str, argv: list[str]) -> None:
        log = (self.workdir / f"{name.split('#')[0]}.log").open("a")
        self.procs[name] = subprocess.Popen(  # noqa: S603
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_web(self) -> None:
        py = sys.executable
        argv = [py, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{self.port}"]
        self._start("web", [*argv, "wsgi:app"])

    def start_worker(self) -> str:
        with self._lock:
            self._seq += 1
            name = f"worker#{self._seq}"
        self._start(name, [sys.executable, "-m", "app.worker", "--name", f"chaos-{self._seq}"])
        return name

    def start_clock(self) -> None:
        self._start("clock", [sys.executable, "-m", "app.timers.clock"])

    def start_all(self) -> None:
        self.start_web()
        for _ in range(self.n_workers):
            self.start_worker()
        self.start_clock()

    def workers(self) -> list[str]:
        return [n for n, p in self.procs.items() if n.startswith("worker#") and p.poll() is None]

    def kill_worker(self, rng: random.Random) -> None:
        """SIGKILL one running worker (mid-job, if it has one) and start a new one."""
        with self._lock:
            alive = self.workers()
            if not alive:
                return
            name = rng.choice(alive)
            os.killpg(self.procs[name].pid, signal.SIGKILL)
            self.procs[name].wait()
            del self.procs[name]
        self.start_worker()

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def restart(self, name: str) -> None:
        self.stop(name)
        {"web": self.start_web, "clock": self.start_clock}[name]()

    def stop_all(self, timeout: float = 20.0) -> None:
        """SIGTERM everything at once, then wait (SIGKILL what is left after ``timeout``)."""
        procs, self.procs = self.procs, {}
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def dead(self) -> list[str]:
        return [n for n, p in self.procs.items() if p.poll() is not None]


def wait_http(url: str, timeout: float = 60.0, deployment: Deployment | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if deployment and deployment.dead():
            raise RuntimeError(f"{deployment.dead()} exited during start-up")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not healthy after {timeout:.0f}s")


# --- idleness -------------------------------------------------------------------------------


def _busy(conn: redis.Redis, emu) -> dict[str, int]:
    """What is still to do: queued, retrying, running jobs and undelivered portal events."""
    from rq import Queue
    from rq.registry import ScheduledJobRegistry, StartedJobRegistry
    from rq.serializers import JSONSerializer
    from rq.timeouts import TimerDeathPenalty

    from app.queues import QUEUES
    from app.sync import echoes

    out: Counter = Counter()
    for name in QUEUES:
        q = Queue(name, connection=conn, serializer=JSONSerializer)
        out["queued"] += q.count
        out["scheduled"] += ScheduledJobRegistry(queue=q).count
        # counting cleans the registry up, which runs abandoned jobs' failure callbacks: the
        # signal-based death penalty works only in a main thread (--parallel has two)
        started = StartedJobRegistry(queue=q, death_penalty_class=TimerDeathPenalty)
        out["started"] += started.count
    pending = [d for d in list(emu.portal.core.deliveries) if getattr(d, "status", "") == "pending"]
    out["deliveries"] = len(pending)
    # records whose events arrived but whose drain has not processed them yet (app.sync.dirty):
    # with no job queued (a killed drain's flag still up) the app is not idle either
    out["dirty"] = sum(conn.zcard(key) for key in conn.scan_iter("b24:dirty:*"))
    # write-backs still in flight (or dead in flight, waiting for the clock's sweep to read
    # their records again: app.sync.echoes): the app still owes those reads
    out["in_flight"] = len(echoes.unsettled(conn))
    return dict(out)


def _requeue_abandoned(conn: redis.Redis, alive: set[str]) -> int:
    """Jobs left ``started`` by a SIGKILLed worker, when no live worker is busy: RQ would
    requeue them once their registry entry expires (job timeout + 60 s for SimpleWorker);
    at idle time that is certain already, so do it now (``AbandonedJobError``, retried)."""
    from rq import Queue, Worker
    from rq.registry import StartedJobRegistry
    from rq.serializers import JSONSerializer
    from rq.timeouts import TimerDeathPenalty

    from app.queues import QUEUES

    # a killed worker's hash still says "busy" until it expires: only live ones count
    if any(w.state == "busy" for w in Worker.all(connection=conn) if w.name in alive):
        return 0
    moved = 0
    for name in QUEUES:
        queue = Queue(name, connection=conn, serializer=JSONSerializer)
        # the cleanup runs the jobs' failure callbacks under a death penalty; the signal one
        # works only in a main thread, and ``--parallel`` runs each deployment in its own
        registry = StartedJobRegistry(queue=queue, death_penalty_class=TimerDeathPenalty)
        before = registry.count
        if before:
            registry.cleanup(timestamp=time.time() + 10**6)
            moved += before - registry.count
    return moved


def wait_idle(
    conn, emu, stats: Stats, deployment: Deployment, *, timeout: float, quiet_for: float = 3.0
) -> bool:
    """Until nothing is queued, retrying, running or undelivered for ``quiet_for`` seconds."""
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        busy = _busy(conn, emu)
        if busy["started"] and not busy["queued"]:
            alive = {n.replace("worker#", "chaos-") for n in deployment.workers()}
            stats.abandoned_requeued += _requeue_abandoned(conn, alive)
            busy = _busy(conn, emu)
        if not any(busy.values()):
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= quiet_for:
                return True
        else:
            quiet_since = None
        time.sleep(0.5)
    stats.idle_timeouts += 1
    print(f"  ! not idle after {timeout:.0f}s: {_busy(conn, emu)}", flush=True)
    return False


# --- the scenario ---------------------------------------------------------------------------


class Scenario:
    """Employees on the portal: metal leads on even indexes, kitchens leads on odd ones."""

    def __init__(self, emu, naming, n: int) -> None:
        self.emu, self.naming, self.n = emu, naming, n
        self.ids: dict[int, int] = {}

    def uf(self, code: str) -> str:
        return self.naming.field_name("lead", code)

    def opt(self, code: str, option: str):
        return self.naming.enum_id(code, option, entity="lead")

    def _move(self, lead_id: int, stage_code: str) -> None:
        stage = self.naming.stage_id("lead", stage_code)
        body = {"entity_type_id": LEAD, "id": lead_id, "stage_id": stage, "user_id": MANAGER}
        self.emu.admin.post("crm/move", body)

    def phase(self, k: int, i: int) -> None:
        """Step ``k`` (0..3) of lead ``i``."""
        metal = i % 2 == 0
        if k == 0:
            if metal:
                fields = {
                    self.uf("UF_CRM_MT_WIDTH"): 12 + i % 7,
                    self.uf("UF_CRM_MT_LENGTH"): 24 + i % 5,
                    self.uf("UF_CRM_MT_REGION"): ("Тверь", "Казань", "Москва")[i % 3],
                }
                body = {"source": "manual", "title": f"Ангар {i}", "user_id": MANAGER}
            else:
                fields = {}
                body = {"source": "manual", "title": f"Кухня {i}", "name": f"Анна {i}"}
                body["user_id"] = MANAGER
            row = self.emu.admin.post("crm/lead", {**body, "fields": fields})
            self.ids[i] = int(row["id"])
        elif k == 1:
            if metal:
                self._move(self.ids[i], "metal.lead.handed_over")
            else:
                answers = {
                    self.uf("UF_CRM_KT_BUDGET"): 300000 + 1000 * i,
                    self.uf("UF_CRM_KT_MATERIAL"): self.opt("UF_CRM_KT_MATERIAL", "mdf"),
                    self.uf("UF_CRM_KT_ADDRESS"): "Москва",
                    self.uf("UF_CRM_KT_HOUSE_TYPE"): self.opt("UF_CRM_KT_HOUSE_TYPE", "new"),
                    self.uf("UF_CRM_KT_KITCHEN_TYPE"): self.opt("UF_CRM_KT_KITCHEN_TYPE", "corner"),
                    self.uf("UF_CRM_KT_COUNTERTOP"): "Кварц",
                    self.uf("UF_CRM_KT_APRON"): "Стекло",
                    self.uf("UF_CRM_KT_APPLIANCES"): "Наша",
                    self.uf("UF_CRM_KT_BUYER"): self.opt("UF_CRM_KT_BUYER", "self"),
                    self.uf("UF_CRM_KT_URGENCY"): self.opt("UF_CRM_KT_URGENCY", "now"),
                    "assignedById": MANAGER,
                }
                body = {"entity_type_id": LEAD, "id": self.ids[i], "fields": answers}
                self.emu.admin.post("crm/update", {**body, "user_id": MANAGER})
        elif k == 2:
            stage = "metal.lead.converted" if metal else "kitchens.lead.qualified"
            if metal and i % 4 == 2:
                return  # every other metal lead stays handed over
            self._move(self.ids[i], stage)
        elif k == 3 and not metal:
            self._move(self.ids[i], "kitchens.lead.agreed")

    PHASES = 4


# --- comparing portals ----------------------------------------------------------------------

_VOLATILE = ("date", "time", "created", "updated", "moved", "modify", "lastactivity", "ts")
_KEEP_IDS = {
    "assignedById",
    "ASSIGNED_BY_ID",
    "stageId",
    "STATUS_ID",
    "STAGE_ID",
    "categoryId",
    "CATEGORY_ID",
    "leadId",
    "LEAD_ID",
    "entityTypeId",
    "OWNER_TYPE_ID",
    "user_id",
    "userId",
    "RESPONSIBLE_ID",
    "responsibleId",
    "sourceId",
    "SOURCE_ID",
    "typeId",
    "TYPE_ID",
    "createdBy",
    "CREATED_BY_ID",
    "AUTHOR_ID",
    "to_user_id",
}


def _normal(value: Any, *, keep_ids: set[str] | None = None) -> Any:
    keep = _KEEP_IDS if keep_ids is None else keep_ids
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            low = str(key).lower()
            if any(v in low for v in _VOLATILE):
                continue
            if (
                # a notification's tag is made of its claim key, which names the portal
                low in ("id", "xml_id", "event_token", "token", "tag")
                or low.endswith(("id", "ids"))
            ) and key not in keep:
                continue
            out[str(key)] = _normal(item, keep_ids=keep)
        return out
    if isinstance(value, list):
        return sorted(
            (_normal(v, keep_ids=keep) for v in value),
            key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False, default=str),
        )
    return value


def snapshot(emu, lead_ids: set[int]) -> dict[str, Any]:
    """The portal's CRM as comparable data: scenario leads by id, everything else as a
    multiset of normalised rows per collection."""
    core = emu.portal
    etids = sorted({LEAD, DEAL, 3, 4, *[int(t) for t in _dynamic_types(emu)]})
    snap: dict[str, Any] = {"leads": {}, "collections": {}}
    for etid in etids:
        rows = emu.admin.get("crm/items", entity_type_id=etid)
        if etid == LEAD:
            for row in rows:
                rid = int(row.get("id") or row.get("ID"))
                if rid in lead_ids:
                    snap["leads"][rid] = _normal(row)
            continue
        snap["collections"][f"items:{etid}"] = _rows(rows)
    for kind in ("activities", "comments", "tasks", "checklist", "notifications"):
        try:
            rows = emu.admin.get(f"crm/{kind}")
        except AssertionError:
            continue
        snap["collections"][kind] = _rows(rows)
    del core
    return snap


def _dynamic_types(emu) -> list[int]:
    hook = emu.webhook_url()
    reply = requests.post(hook + "crm.type.list", json={}, timeout=30).json()
    return [t["entityTypeId"] for t in reply.get("result", {}).get("types", [])]


def _rows(rows: list) -> Counter:
    return Counter(
        json.dumps(_normal(r), sort_keys=True, ensure_ascii=False, default=str) for r in rows
    )


def compare(a: dict, b: dict) -> dict[str, Any]:
    """Per collection: rows in each run, missing from the chaos run, extra in it."""
    report: dict[str, Any] = {}
    lead_diff = [
        {"lead": k, "fault_free": a["leads"].get(k), "chaos": b["leads"].get(k)}
        for k in sorted(set(a["leads"]) | set(b["leads"]))
        if a["leads"].get(k) != b["leads"].get(k)
    ]
    report["leads"] = {
        "records": len(a["leads"]),
        "different": len(lead_diff),
        "examples": lead_diff[:3],
    }
    for name in sorted(set(a["collections"]) | set(b["collections"])):
        ca, cb = a["collections"].get(name, Counter()), b["collections"].get(name, Counter())
        missing, extra = ca - cb, cb - ca
        report[name] = {
            "fault_free": sum(ca.values()),
            "chaos": sum(cb.values()),
            "missing": sum(missing.values()),
            "extra": sum(extra.values()),
            "examples": [json.loads(r) for r in list(missing)[:2]]
            + [json.loads(r) for r in list(extra)[:2]],
        }
    report["identical"] = not lead_diff and all(
        not v["missing"] and not v["extra"]
        for k, v in report.items()
        if k not in ("leads",) and isinstance(v, dict)
    )
    return report


# --- one run --------------------------------------------------------------------------------


def run_once(
    leads: int,
    workers: int,
    chaos: Chaos,
    workdir: Path,
    *,
    phase_timeout: float,
    quiet_for: float = 3.0,
) -> tuple[dict, Stats]:
    """One deployment from scratch through the scenario; returns (snapshot, stats).
    ``quiet_for``: seconds of nothing to do that count as idle between phases."""
    from app.devrun import install_on_emulator, register_on_emulator
    from app.services import Services
    from app.store.migrate import upgrade
    from app.sync.context import portal_context
    from b24emu.testing import free_port, running_emulator
    from config.settings import Settings
    from tests.support.private_redis import private_redis

    workdir.mkdir(parents=True, exist_ok=True)
    stats = Stats()
    rng = random.Random(chaos.seed)
    with ExitStack() as stack:
        redis_url = stack.enter_context(private_redis(workdir / "redis"))
        emu = stack.enter_context(running_emulator())
        db_url = f"sqlite:///{workdir / 'store.db'}"
        with _MIGRATE_LOCK:  # alembic's context proxies are module globals: one at a time
            upgrade(db_url)
        port = free_port()
        app_base = f"http://127.0.0.1:{port}"
        creds = {
            "client_id": f"local.chaos{os.getpid()}.{port}",
            "client_secret": "chaos-" + str(port),
        }
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("B24_", "TEST_", "PROMETHEUS"))
        }
        env.update(
            DATABASE_URL=db_url,
            REDIS_URL=redis_url,
            VAR_DIR=str(workdir / "var"),
            APP_BASE_URL=app_base,
            EMULATOR_ADDRESS=emu.domain,
            PLAYBOOKS=PLAYBOOKS,
            B24_CLIENT_ID=creds["client_id"],
            B24_CLIENT_SECRET=creds["client_secret"],
            GUNICORN_WORKERS="1",
            LOG_LEVEL="INFO",
        )
        deployment = Deployment(workdir, env, port, workers)
        stack.callback(deployment.stop_all)
        deployment.start_all()
        wait_http(f"{app_base}/healthz", deployment=deployment)
        registered = register_on_emulator(f"http://{emu.domain}", app_base, creds)
        outcome = install_on_emulator(f"http://{emu.domain}", registered["client_id"])
        if (outcome.get("installer") or {}).get("status") != 200:
            raise RuntimeError(f"install failed: {outcome}")
        conn = redis.Redis.from_url(redis_url)
        services = Services(
            Settings(
                database_url=db_url,
                redis_url=redis_url,
                var_dir=str(workdir / "var"),
                emulator_address=emu.domain,
            )
        )
        stack.callback(services.close)
        _wait_installed(services, emu.portal.member_id, timeout=phase_timeout)
        wait_idle(conn, emu, stats, deployment, timeout=phase_timeout)
        naming = portal_context(services, emu.portal.member_id).naming
        scenario = Scenario(emu, naming, leads)

        if chaos.error_rate:
            share = round(chaos.error_rate / len(chaos.error_kinds), 4)
            emu.admin.faults(
                error_rates={kind: share for kind in chaos.error_kinds},
                after_share=chaos.after_share,
                timeout_seconds=3,
                seed=chaos.seed,
            )
        emu.admin.reset_requests()
        stop_kills = threading.Event()
        killer = None
        if chaos.kill_every:

            def kill_loop():
                while not stop_kills.wait(chaos.kill_every):
                    deployment.kill_worker(rng)
                    stats.kills += 1

            killer = threading.Thread(target=kill_loop, daemon=True)
            killer.start()
        try:
            for k in range(Scenario.PHASES):
                started = time.monotonic()
                for i in range(leads):
                    scenario.phase(k, i)
                    if chaos.restart_web and k == 1 and i == leads // 2:
                        deployment.restart("web")
                        stats.web_restarts += 1
                        wait_http(f"{app_base}/healthz", timeout=60)
                    if chaos.flush_redis and k == 2 and i == leads // 2:
                        conn.flushall()
                        stats.redis_flushes += 1
                if k == Scenario.PHASES - 1:
                    stop_kills.set()
                wait_idle(conn, emu, stats, deployment, timeout=phase_timeout, quiet_for=quiet_for)
                stats.phase_seconds.append(round(time.monotonic() - started, 1))
                stats.lagging.append({"phase": k, **_lagging(services, emu, scenario.ids)})
                if chaos.kill_between_phases:
                    deployment.kill_worker(rng)
                    stats.kills += 1
        finally:
            stop_kills.set()
            if killer:
                killer.join()
        log = emu.admin.requests_log(limit=1_000_000)
        stats.rest_requests = int(log.get("total_http") or 0)
        stats.rest_errors_injected = sum(
            1 for row in log.get("log") or [] if int(row.get("status") or 200) >= 500
        )
        emu.admin.faults()  # faults off: the portal is healthy again
        # the same ending for both runs: the clock restarts, forcing catch-up + reconciliation
        deployment.restart("clock")
        time.sleep(2)
        wait_idle(conn, emu, stats, deployment, timeout=phase_timeout, quiet_for=quiet_for)
        from app.failed_jobs import counts, list_failed

        stats.failed_jobs = sum(counts(services)[0].values())
        stats.failed_detail = [
            f"{f.queue} {f.func}: {f.error}" for f in list_failed(services, limit=50)
        ][:50]
        snap = snapshot(emu, set(scenario.ids.values()))
        deployment.stop_all()
    return snap, stats


def _lagging(services, emu, ids: dict[int, int]) -> dict[str, list[int]]:
    """Scenario leads whose mirror copy is missing or at another stage than the portal's
    lead, at a barrier (the app was counted idle): work the idle check did not see. A lead
    the next phase moves before the app ever processed it is how the chaos runs' "leads
    first seen late" showed; this names them while it happens."""
    from app.store.mirror import MirrorRecord

    wanted = set(ids.values())
    portal = {
        int(r.get("id") or r.get("ID")): str(r.get("stageId") or r.get("STATUS_ID") or "")
        for r in emu.admin.get("crm/items", entity_type_id=LEAD)
    }
    with services.session() as s:
        rows = s.query(MirrorRecord).filter_by(member_id=emu.portal.member_id, entity="lead")
        mirrored = {r.record_id: r.stage for r in rows if not r.deleted}
    missing = sorted(i for i in wanted if i in portal and i not in mirrored)
    stale = sorted(i for i in wanted if i in portal and i in mirrored and mirrored[i] != portal[i])
    return {"missing": missing[:50], "stale_stage": stale[:50],
            "counts": [len(missing), len(stale)]}  # fmt: skip


def _wait_installed(services, member_id: str, *, timeout: float) -> None:
    from app.store import installations

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with services.session() as s:
            row = installations.get(s, member_id)
            if row is not None and row.status == "active":
                return
        time.sleep(0.5)
    raise RuntimeError("the installer did not finish")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chaos", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--leads", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--error-rate", type=float, default=0.2)
    parser.add_argument("--kill-every", type=float, default=20.0)
    parser.add_argument(
        "--after-share",
        type=float,
        default=0.5,
        help="share of injected 500s/timeouts that strike after the portal applied the call",
    )
    parser.add_argument("--phase-timeout", type=float, default=600.0)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--json", default=None, help="write the report here too")
    parser.add_argument(
        "--parallel",
        action="store_true",
        help="run the fault-free and the chaos deployment side by side (each has its own "
        "portal, so each its own 2 requests/s REST budget) instead of one after the other",
    )
    args = parser.parse_args(argv)
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    base = Path(args.workdir or tempfile.mkdtemp(prefix="b24chaos-"))
    results = {}
    chaos = Chaos(
        error_rate=args.error_rate,
        after_share=args.after_share,
        kill_every=args.kill_every,
        restart_web=True,
        flush_redis=True,
    )

    def timed(name: str, setting: Chaos):
        start = time.monotonic()
        out = run_once(
            args.leads, args.workers, setting, base / name, phase_timeout=args.phase_timeout
        )
        results[f"{name}_s"] = round(time.monotonic() - start, 1)
        return out

    with ThreadPoolExecutor(2 if args.parallel else 1) as pool:
        plain_run = pool.submit(timed, "fault_free", Chaos())
        rough_run = pool.submit(timed, "chaos", chaos)
        (plain, plain_stats), (rough, rough_stats) = plain_run.result(), rough_run.result()
    report = compare(plain, rough)
    results.update(
        parallel=args.parallel,
        leads=args.leads,
        workers=args.workers,
        fault_free=plain_stats.__dict__,
        chaos=rough_stats.__dict__,
        comparison=report,
    )
    text = json.dumps(results, indent=2, ensure_ascii=False, default=str)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0 if report["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
