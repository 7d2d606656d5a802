"""Object duplicate check: the store's index vs the portal-side filter query it replaces.

    .venv/bin/python -m bench.objects_dedup [--objects 1000000] [--checks 2000]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--portal-objects 20000]

1. Store: ``--objects`` Objects in ``object_keys`` of a migrated store (a temp SQLite file,
   and with ``--postgres`` a scratch PostgreSQL database ``metal_bench_dedup``), 1 % of
   them sharing their key with another. Then ``--checks`` duplicate checks the way the rule
   does them (normalise the lead's values, hash, one indexed lookup) → p50 / p99 per check.
   Target: p99 ≤ 5 ms.
2. Portal: the same check as a ``crm.item.list`` filter on the emulator (numbers filtered by
   the portal, texts normalised here) with ``--portal-objects`` Objects → p50 / p99 over
   HTTP, what every check would cost without the index.

Uses Redis ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/10``, flushed) for part 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MEMBER = "bench-dedup"
PURPOSES = ("warehouse", "production", "agro", "retail", "sport", "other")
CITIES = ("Казань", "Самара", "Уфа", "Пермь", "Тула", "Омск", "Курск", "Орёл")


def _values(rng: random.Random) -> dict:
    return {
        "width": rng.randint(6, 60) + rng.choice((0, 0.5)),
        "length": rng.randint(10, 120),
        "height": rng.randint(4, 14),
        "site": f"{rng.choice(CITIES)}, участок {rng.randint(1, 5000)}",
        "purpose": rng.choice(PURPOSES),
    }


def _keys(v: dict):
    from app.domain.dedup import normalise_keys

    return normalise_keys(
        width=v["width"],
        length=v["length"],
        height=v["height"],
        area=v["width"] * v["length"],
        site=v["site"],
        purpose=v["purpose"],
    )


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def store_bench(url: str, objects: int, checks: int, label: str) -> None:
    from app.domain.dedup import dedup_hash
    from app.objects import index
    from app.store.migrate import upgrade
    from app.store.objects_index import ObjectKey

    upgrade(url)
    engine = create_engine(url)
    rng = random.Random(7)
    started = time.perf_counter()
    seen: list[dict] = []
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM object_keys"))
        chunk = []
        for i in range(1, objects + 1):
            v = seen[rng.randrange(len(seen))] if seen and rng.random() < 0.01 else _values(rng)
            if len(seen) < 5000:
                seen.append(v)
            chunk.append(
                {
                    "member_id": MEMBER,
                    "object_id": i,
                    "key_hash": dedup_hash(_keys(v)),
                    "lead_id": None,
                    "deal_id": None,
                    "updated_at": _now(),
                }
            )
            if len(chunk) == 20000:
                conn.execute(insert(ObjectKey), chunk)
                chunk = []
        if chunk:
            conn.execute(insert(ObjectKey), chunk)
    print(f"[{label}] {objects:,} Objects indexed in {time.perf_counter() - started:.1f} s")
    sessions = sessionmaker(engine)
    samples, found = [], 0
    with sessions() as session:
        for n in range(checks):
            v = seen[rng.randrange(len(seen))] if n % 2 else _values(rng)
            t0 = time.perf_counter()
            hits = index.candidates(session, MEMBER, _keys(v))
            samples.append((time.perf_counter() - t0) * 1000)
            found += bool(hits)
    print(
        f"[{label}] index check: p50 {_pct(samples, 0.5):.3f} ms, p99 {_pct(samples, 0.99):.3f} ms,"
        f" max {max(samples):.3f} ms over {checks} checks ({found} found duplicates)  [target p99 ≤ 5 ms]"
    )
    engine.dispose()


def _now():
    from app.store.base import utcnow

    return utcnow()


def postgres_url(admin_url: str) -> str:
    """A fresh scratch database ``metal_bench_dedup`` on the server of ``admin_url``."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS metal_bench_dedup"))
        conn.execute(text("CREATE DATABASE metal_bench_dedup"))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/metal_bench_dedup"


def portal_bench(count: int, checks: int) -> None:
    import redis

    from app.objects.lookup import portal_candidates
    from app.sync.context import portal_context
    from tests.e2e._metal_world import metal_world

    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
    redis.Redis.from_url(url).flushdb()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        gen = metal_world(Path(tmp), url)
        w = next(gen)
        try:
            uf = lambda c: w.uf("metal.object", c)  # noqa: E731
            purposes = {p: w.purpose("metal.object", p) for p in PURPOSES}
            rows, kept = [], []
            for _ in range(count):
                v = _values(rng)
                kept.append(v) if len(kept) < 2000 else None
                rows.append(
                    {
                        uf("UF_CRM_OBJ_WIDTH"): v["width"],
                        uf("UF_CRM_OBJ_LENGTH"): v["length"],
                        uf("UF_CRM_OBJ_HEIGHT"): v["height"],
                        uf("UF_CRM_OBJ_AREA"): v["width"] * v["length"],
                        uf("UF_CRM_OBJ_SITE"): v["site"],
                        uf("UF_CRM_OBJ_PURPOSE"): purposes[v["purpose"]],
                    }
                )
            w.emu.portal.crm.bulk_seed(w.object_etid, rows)
            ctx = portal_context(w.services, w.member_id)
            samples = []
            for n in range(checks):
                v = kept[rng.randrange(len(kept))] if n % 2 else _values(rng)
                t0 = time.perf_counter()
                portal_candidates(ctx.client, ctx.naming, _keys(v))
                samples.append((time.perf_counter() - t0) * 1000)
        finally:
            gen.close()
    print(
        f"[portal] crm.item.list filter on the emulator with {count:,} Objects: p50 "
        f"{_pct(samples, 0.5):.1f} ms, p99 {_pct(samples, 0.99):.1f} ms over {checks} checks"
        " (one HTTP request each, counted against the portal's rate limit)"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--portal-objects", type=int, default=20_000)
    parser.add_argument("--portal-checks", type=int, default=200)
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as tmp:
        store_bench(f"sqlite:///{tmp}/dedup.db", args.objects, args.checks, "sqlite")
    if args.postgres:
        store_bench(postgres_url(args.postgres), args.objects, args.checks, "postgresql")
    if args.portal_objects:
        portal_bench(args.portal_objects, args.portal_checks)


if __name__ == "__main__":
    main()
