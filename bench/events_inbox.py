"""Events/s accepted by ``POST /events`` under gunicorn, with p50/p99 latency, side by side
with a bare Flask endpoint on the same server (the ceiling of this machine).

    .venv/bin/python -m bench.events_inbox [--seconds 10] [--concurrency 4] [--workers 2]

Both servers run under the app's own gunicorn settings (``gunicorn.conf.py`` in the repo
root, as ``app/devrun.py`` starts it); ``--worker-class``/``--threads`` override them for
experiments. The inbox run is the real thing: bracket-form parsing, validation,
installation lookup, constant-time token check, the Redis claim + dirty-record script, and
the drain job's enqueue whenever no drain is scheduled (no worker runs, so after the first
event one is always scheduled: the steady state under load). Every event is for a different
record (distinct ``data[FIELDS][ID]``), so each one is claimed and marked — the worst case;
bursts for one record are cheaper. Targets: ≥ 1,500 events/s, p99 ≤ 25 ms.

Uses Redis ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/7``, flushed) and a SQLite
file in a temp dir. The load generator shares the 2 cores with the server, so its own cost
caps what can be measured: ``wrk`` (C, one thread; Debian package ``wrk``) is used when it is
on PATH, with a Lua script that gives every request its own record and delivery id; without
it a Python raw-socket generator runs (``--client python``), which costs more CPU per request
than the server does and so measures the generator, not the server (≈ 1,500/s for both
servers on 2 cores). Both servers always get the same client in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask

from app.sync import dirty

MEMBER = "bench0000000000000000000000000001"
TOKEN = "benchtoken0000000000000000000001"
ROOT = Path(__file__).resolve().parent.parent


def bare_app() -> Flask:
    """The ceiling: a Flask endpoint that reads the form and answers 200."""
    app = Flask("bare")

    @app.post("/events")
    def events():
        from flask import request

        request.form  # noqa: B018 - parse the body like the real handler has to
        return "OK"

    return app


def inbox_app():
    """The real app (create_app) with the bench installation in its store."""
    from app.web import create_app

    return create_app()


RECORDS = 10**9  # distinct records cycled through (--records 1 = one record's burst)


def _body(n: int, records: int = RECORDS) -> bytes:
    fields = {
        "event": "ONCRMLEADUPDATE",
        "data[FIELDS][ID]": str(100000 + n % records),
        "event_handler_id": str(n),  # distinct deliveries, so none is dropped as a replay
        "ts": str(int(time.time())),
        "auth[domain]": "bench.example.com",
        "auth[client_endpoint]": "https://bench.example.com/rest/",
        "auth[server_endpoint]": "https://oauth.bitrix.info/rest/",
        "auth[member_id]": MEMBER,
        "auth[application_token]": TOKEN,
    }
    return urlencode(fields).encode()


def _request(host: str, port: int, body: bytes) -> bytes:
    head = (
        f"POST /events HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _load(
    url: str, seconds: float, concurrency: int, records: int = RECORDS
) -> tuple[int, list[float], dict[int, int]]:
    """Closed-loop load over raw sockets (keep-alive when the server allows it): much
    lighter than an HTTP client library, so more of the 2 cores go to the server."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = parts.hostname, parts.port
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(10**9))
    deadline = time.perf_counter() + seconds

    async def worker():
        reader = writer = None
        while time.perf_counter() < deadline:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            payload = _request(host, port, _body(next(counter), records))
            t0 = time.perf_counter()
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length, close = 0, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
                elif name.lower() == b"connection" and value.strip().lower() == b"close":
                    close = True
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            statuses[status] = statuses.get(status, 0) + 1
            if close:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies), latencies, statuses


WRK_SCRIPT = """
-- start far from the warm-up's ids, so no request repeats a warm-up delivery (a replay)
local counter = 10000000
local records = %(records)d
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
request = function()
  counter = counter + 1
  local body = "event=ONCRMLEADUPDATE&data%%5BFIELDS%%5D%%5BID%%5D=" .. (100000 + counter %% records) ..
    "&event_handler_id=" .. counter .. "&ts=" .. os.time() ..
    "&auth%%5Bdomain%%5D=bench.example.com" ..
    "&auth%%5Bclient_endpoint%%5D=https%%3A%%2F%%2Fbench.example.com%%2Frest%%2F" ..
    "&auth%%5Bserver_endpoint%%5D=https%%3A%%2F%%2Foauth.bitrix.info%%2Frest%%2F" ..
    "&auth%%5Bmember_id%%5D=%(member)s&auth%%5Bapplication_token%%5D=%(token)s"
  return wrk.format(nil, nil, nil, body)
end
"""

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _wrk_load(
    url: str, seconds: float, concurrency: int, records: int = RECORDS
) -> tuple[int, float, float, float, dict[str, int]]:
    """Run ``wrk`` (one thread, ``concurrency`` keep-alive connections) with a Lua script
    that builds the same bodies as :func:`_body`;
    ``(requests, seconds, p50 ms, p99 ms, statuses)``.
    wrk reports non-2xx answers as one count, so statuses are ``{"2xx": n, "other": m}``."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            WRK_SCRIPT % {"records": min(records, 10**9), "member": MEMBER, "token": TOKEN}
        )
    try:
        out = subprocess.run(  # noqa: S603 - our own fixed argv
            ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency"]
            + ["-s", script.name, url],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(script.name)
    total_text, took = re.search(r"(\d+) requests in ([\d.]+)s", out).groups()
    total = int(total_text)
    other = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if errors:
        print(f"wrk socket errors: {errors.group(1)}")

    def pct(label: str) -> float:
        value, unit = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * _UNITS[unit]

    bad = int(other.group(1)) if other else 0
    return total, float(took), pct("50"), pct("99"), {"2xx": total - bad, "other": bad}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(
    target: str, workers: int, env: dict[str, str], worker_class: str | None, threads: int | None
) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
    cmd += ["-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    if worker_class:
        cmd += ["-k", worker_class]
    if threads:
        cmd += ["--threads", str(threads)]
    cmd.append(target)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}/events"
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"gunicorn for {target} did not start")


def _cpu_seconds(master: int) -> float:
    """User+system CPU of the gunicorn master and its workers (Linux ``/proc``): the cost
    per event that the machine's other load does not distort, unlike events/s."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(entry) == master or int(fields[1]) == master:  # fields[1] is the parent pid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _redis_cpu(conn) -> float:
    info = conn.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _dirty_count(conn) -> int:
    key = dirty.dirty_key(MEMBER)
    kind = conn.type(key).decode()
    return {"zset": conn.zcard, "set": conn.scard, "hash": conn.hlen, "list": conn.llen}.get(
        kind, lambda _key: 0
    )(key)


def _stats(n: int, lat: list[float], seconds: float) -> tuple[float, float, float]:
    lat = sorted(lat)
    if not lat:
        return 0.0, 0.0, 0.0
    return (
        n / seconds,
        lat[len(lat) // 2] * 1000,
        lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
    )


def _prepare_store(db_url: str) -> None:
    """Migrate the store and insert the bench installation (an outgoing-webhook portal)."""
    from app.store import installations
    from app.store.db import make_engine, session_factory
    from app.store.migrate import upgrade

    upgrade(db_url)
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        installations.upsert_verified(
            session,
            MEMBER,
            domain="bench.example.com",
            auth_mode="webhook",
            application_token=TOKEN,
            status="active",
        )
        session.commit()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--worker-class", default=None, help="override gunicorn.conf.py (sync, gthread)"
    )
    parser.add_argument("--threads", type=int, default=None, help="override gunicorn.conf.py")
    parser.add_argument(
        "--records",
        type=int,
        default=RECORDS,
        help="distinct records the events cycle through (1 = a burst for one record: coalesced)",
    )
    parser.add_argument(
        "--client",
        choices=("wrk", "python"),
        default="wrk" if shutil.which("wrk") else "python",
        help="load generator (default: wrk when installed)",
    )
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-inbox-")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
    db_url = f"sqlite:///{tmp}/bench.db"
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "LOG_LEVEL": "WARNING"}
    import redis

    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    _prepare_store(db_url)

    rows = []
    for name, target in (
        ("bare Flask", "bench.events_inbox:bare_app()"),
        ("/events inbox", "bench.events_inbox:inbox_app()"),
    ):
        proc, url = _serve(target, args.workers, env, args.worker_class, args.threads)
        try:
            asyncio.run(_load(url, 1.0, args.concurrency, args.records))  # warm-up
            conn.delete(dirty.dirty_key(MEMBER))  # count only what the measured run marks
            cpu0, rcpu0 = _cpu_seconds(proc.pid), _redis_cpu(conn)
            if args.client == "wrk":
                n, took, p50, p99, statuses = _wrk_load(
                    url, args.seconds, args.concurrency, args.records
                )
                rate = n / took
            else:
                n, lat, statuses = asyncio.run(
                    _load(url, args.seconds, args.concurrency, args.records)
                )
                rate, p50, p99 = _stats(n, lat, args.seconds)
            cpu, rcpu = _cpu_seconds(proc.pid) - cpu0, _redis_cpu(conn) - rcpu0
            marked = _dirty_count(conn)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        per = 1e6 / max(n, 1)
        rows.append((name, rate, p50, p99, cpu * per, rcpu * per, statuses, marked))
    redis.Redis.from_url(redis_url).flushdb()

    print(
        f"\nPOST /events ({args.records} records), gunicorn -c gunicorn.conf.py -w {args.workers}"
        f" -k {args.worker_class or 'default'} --threads {args.threads or 'default'}, "
        f"{args.concurrency} "
        f"connections ({args.client}), {args.seconds:.0f} s each, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'server':<16}{'events/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'web CPU us/ev':>15}{'redis CPU us/ev':>17}{'marked':>9}  statuses"
    )
    for name, rate, p50, p99, cpu, rcpu, statuses, marked in rows:
        print(
            f"{name:<16}{rate:>10.0f}{p50:>9.1f}{p99:>9.1f}{cpu:>15.0f}{rcpu:>17.0f}{marked:>9}"
            f"  {dict(sorted(statuses.items()))}"
        )
    print("marked: records the run left dirty in Redis (the inbox marks one per accepted event)")
    inbox_rate, inbox_p99 = rows[1][1], rows[1][3]
    verdict = "meets" if inbox_rate >= 1500 and inbox_p99 <= 25 else "misses"
    print(f"inbox {verdict} the target (>= 1500/s, p99 <= 25 ms)")


if __name__ == "__main__":
    main()
