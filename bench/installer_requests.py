"""REST requests the installer needs: apply the playbooks to an empty portal, then re-plan.

    .venv/bin/python -m bench.installer_requests [--playbook NAME ...]

Runs an emulated portal with its cloud limits ON and an installed OAuth app (so robots,
event bindings and widgets are included), and counts at the emulator: HTTP requests
(``batch`` counts as one, as the portal's rate limit does) and the sub-calls inside them.
Target: re-plan of an installed portal ≤ 5 requests. Prints one table row per measurement.
"""

from __future__ import annotations

import argparse
import os
import time


def _counts(emu) -> tuple[int, int]:
    log = emu.admin.get("requests", limit=0)
    http = sum(n for m, n in log["http"].items() if not m.startswith("oauth"))
    calls = sum(n for m, n in log["calls"].items() if m != "batch")
    return http, calls


def main() -> None:
    from app.playbooks import NAMES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--playbook", action="append", choices=NAMES)
    names = parser.parse_args().playbook or list(NAMES)

    from app.installers.current import read
    from app.installers.desired import build
    from app.installers.plan import plan
    from app.robots.registry import all_specs
    from app.store import schema_objects
    from b24emu.testing import running_emulator
    from tests.app.test_installer_support import BASE, install, new_session, oauth_client

    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
    print(f"playbooks: {', '.join(names)}")
    print(f"{'measurement':<34}{'HTTP requests':>14}{'sub-calls':>11}{'writes':>8}{'seconds':>9}")
    with running_emulator(rate_limit=True, operating_limit=True) as emu:
        client = oauth_client(emu, redis_url, member_id="bench-inst")
        session = new_session()
        desired = build(names)

        def row(label, fn):
            emu.admin.post("requests/reset")
            t0 = time.perf_counter()
            out = fn()
            http, calls = _counts(emu)
            writes = sum(out.written.values()) if hasattr(out, "written") else 0
            print(f"{label:<34}{http:>14}{calls:>11}{writes:>8}{time.perf_counter() - t0:>9.2f}")
            return out

        row("apply to an empty portal", lambda: install(session, client, names, "bench-inst"))

        def replan():
            known = schema_objects.load(session, "bench-inst")
            result = plan(desired, read(client, desired, known), known, BASE, all_specs())
            assert result.empty, result.render()
            return result

        row("re-plan the installed portal", replan)
        row("re-apply (nothing to write)", lambda: install(session, client, names, "bench-inst"))


if __name__ == "__main__":
    main()
