"""Full sync of 100,000 leads from the emulator into the mirror: requests vs the minimum.

    .venv/bin/python -m bench.sync_full [--leads 100000]

The emulator runs with its cloud limits ON (leaky bucket 2 req/s, burst 50; per-method
operating-time budget), so counting (``total``) would show up as 429s. The theoretical
minimum is ``ceil(leads / 2500)`` requests: 50 pages of 50 records per batch request.
Target: ≤ 1.1 × the minimum and no 429. Prints one table row per run.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker


def _client(emu, redis_conn):
    """The gateway's client over an incoming webhook of the emulator (cloud limits)."""
    from app.portal import MemoryTokenStore, client_from_parts
    from app.store.installations import Credentials

    creds = Credentials(
        member_id="bench-member",
        domain=emu.domain,
        client_endpoint=None,
        server_endpoint=None,
        auth_mode="webhook",
        webhook_url=emu.webhook_url(),
    )
    return client_from_parts(MemoryTokenStore(creds), "bench-member", redis_conn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    args = parser.parse_args()

    import redis

    from app.rules.naming import PlainNaming
    from app.store import mirror
    from app.store.base import Base
    from app.sync import full
    from app.sync.context import PortalContext
    from b24emu.testing import running_emulator

    db = tempfile.mkdtemp(prefix="bench-sync-") + "/mirror.db"
    engine = create_engine(f"sqlite:///{db}")
    Base.metadata.create_all(engine)
    with running_emulator(rate_limit=True, operating_limit=True) as emu:
        t0 = time.perf_counter()
        emu.portal.crm.bulk_seed(1, ({"title": f"lead {n}"} for n in range(args.leads)))
        seeded = time.perf_counter() - t0
        redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
        redis_conn = redis.Redis.from_url(redis_url)
        client = _client(emu, redis_conn)
        ctx = PortalContext("bench-member", sessionmaker(engine), client, PlainNaming(), redis_conn)
        emu.admin.post("requests/reset")
        t0 = time.perf_counter()
        result = full.full_sync(ctx, "lead", restart=True)
        elapsed = time.perf_counter() - t0
        log = emu.admin.get("requests", limit=100_000)
    with sessionmaker(engine)() as s:
        mirrored = s.scalar(select(func.count()).select_from(mirror.MirrorRecord))

    minimum = math.ceil(args.leads / 2500)
    requests = log["total_http"]
    statuses: dict[str, int] = {}
    for entry in log["log"]:
        statuses[str(entry.get("status"))] = statuses.get(str(entry.get("status")), 0) + 1
    too_many = statuses.get("429", 0) + statuses.get("503", 0)
    print(f"\nfull sync of {args.leads:,} leads (emulator limits on; seeded in {seeded:.1f} s)")
    print(
        f"{'records':>9}{'mirrored':>10}{'requests':>10}{'minimum':>9}{'ratio':>7}{'429/503':>9}{'seconds':>9}{'rec/s':>9}"
    )
    print(
        f"{result.records:>9,}{mirrored:>10,}{requests:>10}{minimum:>9}{requests / minimum:>7.2f}"
        f"{too_many:>9}{elapsed:>9.1f}{result.records / elapsed:>9.0f}"
    )
    verdict = "meets" if requests <= 1.1 * minimum and too_many == 0 else "misses"
    print(f"{verdict} the target (<= {1.1 * minimum:.0f} requests, no 429)")
    print(f"HTTP statuses: {statuses}")


if __name__ == "__main__":
    main()
