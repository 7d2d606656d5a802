"""REST requests per new web-form lead, processed end to end by the metal playbook.

    .venv/bin/python -m bench.metal_requests_per_lead [--leads 10]

A metal portal (emulator + real installer + our Flask app receiving events + a real RQ
SimpleWorker), then ``--leads`` web-form leads with full dimensions, each with a new
building (title, area, routing to «Данные заполнены», duplicate check, Object created and
linked both ways). After each lead has settled, the emulator's request log tells how many
HTTP requests the app made and which methods they carried. Target: ≤ 3 per lead for the
lead's own processing. The echoes of our own writes (the portal posts an event for each lead
update and for the new Object) are recognised without a read since issue 22
(``app.sync.echoes``); any request after the first two would be one.

Uses Redis ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/10``, flushed).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10)
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)
    import redis

    from tests.e2e._metal_world import metal_world

    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
    redis.Redis.from_url(url).flushdb()
    with tempfile.TemporaryDirectory() as tmp:
        gen = metal_world(Path(tmp), url)
        w = next(gen)
        try:
            per_lead, online, shapes = [], [], Counter()
            for n in range(args.leads):
                w.emu.admin.post("requests/reset", {})
                fields = {
                    w.uf("lead", "UF_CRM_MT_WIDTH"): 12 + n,
                    w.uf("lead", "UF_CRM_MT_LENGTH"): 30,
                    w.uf("lead", "UF_CRM_MT_HEIGHT"): 6,
                    w.uf("lead", "UF_CRM_MT_SITE"): f"Казань, участок {n}",
                    w.uf("lead", "UF_CRM_MT_PURPOSE"): w.purpose("lead", "warehouse"),
                }
                w.lead_from("webform", email=f"c{n}@mail.ru", **fields)
                w.settle()
                log = w.emu.admin.get("requests", limit=1000)
                per_lead.append(int(log["total_http"]))
                entries = [e["method"] for e in log["log"]]
                cut = next(
                    (i for i, m in enumerate(entries) if m.startswith("event.offline")), None
                )
                online.append(len(entries) if cut is None else cut)
                shape = " → ".join(
                    f"{e['method']}[{e['batch_size']}]" if e.get("batch_size") else e["method"]
                    for e in log["log"]
                )
                shapes[shape] += 1
            objects = len(w.items(w.object_etid))
        finally:
            gen.close()
    print(f"leads: {args.leads}, Objects created: {objects} (one per lead expected)")
    print(
        f"HTTP requests per lead, all of them: mean {statistics.mean(per_lead):.2f}, "
        f"max {max(per_lead)}  {per_lead}"
    )
    print(
        f"  event path only (before any offline-queue catch-up): mean "
        f"{statistics.mean(online):.2f}, max {max(online)}  {online}"
    )
    print("sequence per lead (method[commands in the batch]) → how many leads:")
    for shape, count in shapes.most_common():
        print(f"  {count:3d} × {shape}")
    print(
        "the lead's own processing = the first two (read the lead + one batch with title, "
        "area, responsible, stage, comment, Object create + link) [target ≤ 3]; anything more "
        "would be a read-back of an echo of our own writes (lead update, Object add); "
        "event.offline.* is the offline-queue safety net (bench.lead_latency counts it)"
    )


if __name__ == "__main__":
    main()
