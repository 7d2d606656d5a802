"""The busy portal's burst, from a process of its own: ``python -m bench._burst`` reads
``{"base_url", "bodies", "data_complete", "timeout"}`` as JSON on stdin, creates one lead per
body through the emulator's admin API, then polls until every one shows the automation
(as ``bench._stack.visible_remote``) and prints ``{"created_s", "visible_s"}``.

Why a process: the quiet portals' emulators are servers in the benchmark's own process.
Creating 1,000 leads over HTTP and parsing the busy portal's whole lead list every 2 s
there took the interpreter from them, so the quiet portals' REST answers slowed beside the
burst for a reason no real portal shares (on a cloud they are separate servers) — the same
artifact ``bench._stack.RemoteEmu`` removed for the busy portal's emulator.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> int:
    from b24emu.testing import AdminClient

    job = json.load(sys.stdin)
    admin = AdminClient(job["base_url"])
    t0 = time.monotonic()
    ids = [int(admin.post("crm/lead", body)["id"]) for body in job["bodies"]]
    created_s = time.monotonic() - t0
    deadline = time.monotonic() + float(job["timeout"])
    while time.monotonic() < deadline:
        rows = {int(r["id"]): r for r in admin.get("crm/items", entity_type_id=1)}
        if all(
            (row := rows.get(i)) is not None
            and row.get("stageId") == job["data_complete"]
            and str(row.get("title") or "").startswith("Веб-форма")
            for i in ids
        ):
            break
        time.sleep(2.0)
    print(json.dumps({"created_s": created_s, "visible_s": time.monotonic() - t0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
