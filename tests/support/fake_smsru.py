"""A local fake of the SMS.ru HTTP API (https://sms.ru/api/send), for tests.

``POST /sms/send`` (or GET) with ``api_id``, ``to``, ``msg``, ``json=1``, optional ``from``.
Answers as the provider documents it: ``{"status": "OK", "status_code": 100, "sms":
{"<to>": {"status": "OK", "status_code": 100, "sms_id": "…"}}, "balance": …}``; a wrong
``api_id`` → ``{"status": "ERROR", "status_code": 200, "status_text": …}``; a number it
cannot send to → per-number ``ERROR`` 207. Everything received is kept in ``received``
(the api_id is kept only as ``key_ok``). Knobs: ``fail_next`` (HTTP 503 for the next N
requests), ``delay`` (seconds to wait before answering, after recording the message — a
worker killed meanwhile has handed it over already), ``blocked`` (numbers → 207).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeSmsRu:
    def __init__(self, api_id: str = "test-key") -> None:
        self.api_id = api_id
        self.received: list[dict] = []
        self.fail_next = 0
        self.delay = 0.0
        self.blocked: set[str] = set()
        self._lock = threading.Lock()
        self._count = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                self._answer(urllib.parse.urlparse(self.path).query)

            def do_POST(self):
                size = int(self.headers.get("Content-Length") or 0)
                self._answer(self.rfile.read(size).decode())

            def _answer(self, raw: str):
                if urllib.parse.urlparse(self.path).path != "/sms/send":
                    self.send_error(404)
                    return
                status, body = fake.handle(urllib.parse.parse_qs(raw))
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    # the sender went away while we waited (``delay``: a worker killed
                    # mid-send, on purpose); the message is recorded, nobody is listening
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms/send"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def handle(self, form: dict[str, list[str]]) -> tuple[int, dict]:
        one = {k: v[0] for k, v in form.items() if v}
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503, {"status": "ERROR", "status_code": 500}
            if one.get("api_id") != self.api_id:
                return 200, {
                    "status": "ERROR",
                    "status_code": 200,
                    "status_text": "Неправильный api_id",
                }
            to = one.get("to", "")
            if to in self.blocked:
                body = {"status": "OK", "status_code": 100, "sms": {to: {"status": "ERROR",
                        "status_code": 207, "status_text": "На этот номер нельзя отправлять"}}}  # fmt: skip
                return 200, body
            self._count += 1
            sms_id = f"000000-{10000000 + self._count}"
            self.received.append({"to": to, "msg": one.get("msg", ""), "from": one.get("from"),
                                  "sms_id": sms_id, "key_ok": True})  # fmt: skip
        if self.delay:
            time.sleep(self.delay)
        body = {"status": "OK", "status_code": 100, "balance": 100.0,
                "sms": {to: {"status": "OK", "status_code": 100, "sms_id": sms_id}}}  # fmt: skip
        return 200, body

    def texts(self, to: str | None = None) -> list[str]:
        return [r["msg"] for r in self.received if to is None or r["to"] == to]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
