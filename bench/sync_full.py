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
import tempfile
import time

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker


def _client(emu):
    """The gateway's client over an incoming webhook; the tests' reference client if the
    gateway is not importable (the table says which one ran)."""
    try:
        from app.portal import client_for_webhook

        return client_for_webhook(emu.webhook_url()), "gateway"
    except ImportError:
        from tests.app._events_fakes import WebhookClient

        return WebhookClient(emu.webhook_url()), "reference client"


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
        client, kind = _client(emu)
        ctx = PortalContext(
            "bench-member", sessionmaker(engine), client, PlainNaming(), redis.Redis()
        )
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
    print(
        f"\nfull sync of {args.leads:,} leads (emulator limits on; seeded in {seeded:.1f} s; {kind})"
    )
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
