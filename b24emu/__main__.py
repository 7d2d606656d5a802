"""``python -m b24emu serve --port 8900 [--webhook 1/CODE] [--state FILE] [--limits off|standard|enterprise]``.

Starts one portal on 127.0.0.1 and prints its webhook URL, OAuth token endpoint and admin URL.
In-memory by default; ``--state`` loads the file when present and saves it periodically and
on shutdown. ``python -m b24emu seed --port 8900 --leads 1000`` seeds a running portal.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import urllib.request

from aiohttp import web

from b24emu.auth import create_webhook
from b24emu.config import LIMIT_PROFILES
from b24emu.portal_factory import load_state, new_portal
from b24emu.server import build_app


def _serve(args: argparse.Namespace) -> int:
    domain = f"127.0.0.1:{args.port}"
    if args.state and os.path.exists(args.state):
        portal = load_state(args.state)
        portal.domain = domain
        portal.core.config.update(limits=args.limits, state_file=args.state)
    else:
        portal = new_portal(domain=domain, limits=args.limits, state_file=args.state)
    hooks = []
    for spec in args.webhook or []:
        user_id, _, code = spec.partition("/")
        if not code:
            print(f"--webhook wants USER_ID/CODE, got {spec!r}", file=sys.stderr)
            return 2
        hooks.append(create_webhook(portal, int(user_id), None, code))
    if not portal.core.webhooks:
        hooks.append(create_webhook(portal, 1))
    base = portal.base_url
    for hook in hooks or portal.core.webhooks.values():
        print(f"webhook:  {base}/rest/{hook.user_id}/{hook.code}/")
    print(f"rest:     {base}/rest/")
    print(f"oauth:    {base}/oauth/token/")
    print(f"admin:    {base}/_emu/")
    print(f"limits:   {args.limits}   state: {args.state or 'in-memory'}", flush=True)
    web.run_app(build_app(portal), host="127.0.0.1", port=args.port, access_log=None, print=None)
    return 0


def _seed(args: argparse.Namespace) -> int:
    payload = {
        k: getattr(args, k)
        for k in ("leads", "deals", "contacts", "companies", "objects")
        if getattr(args, k)
    }
    req = urllib.request.Request(
        f"http://127.0.0.1:{args.port}/_emu/seed",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=600) as resp:  # noqa: S310 - loopback admin URL
        print(resp.read().decode())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m b24emu", description="Offline Bitrix24 portal emulator"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run one portal on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8900)
    serve.add_argument(
        "--webhook", action="append", help="USER_ID/CODE of an incoming webhook (repeatable)"
    )
    serve.add_argument("--state", help="pickle file keeping state across restarts")
    serve.add_argument("--limits", choices=sorted(LIMIT_PROFILES), default="standard")
    serve.add_argument("--log-level", default="WARNING")
    seed = sub.add_parser("seed", help="seed a running portal with generated records")
    seed.add_argument("--port", type=int, default=8900)
    for kind in ("leads", "deals", "contacts", "companies", "objects"):
        seed.add_argument(f"--{kind}", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "serve":
        logging.basicConfig(level=getattr(args, "log_level", "WARNING"))
        return _serve(args)
    return _seed(args)


if __name__ == "__main__":
    raise SystemExit(main())
