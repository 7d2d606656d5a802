"""SMS.ru HTTP API client (the SMS gateway; provider, key and sender are settings).

``POST {api_url}`` (default ``https://sms.ru/sms/send``) with ``api_id``, ``to`` (digits),
``msg``, ``json=1`` and, when set, ``from`` (an approved sender name). The JSON answer (as
documented at https://sms.ru/api/send): ``{"status": "OK"|"ERROR", "status_code": 100, "sms":
{"<phone>": {"status": "OK"|"ERROR", "status_code": …, "sms_id": "…", "status_text": …}},
"balance": …}``. Status code 100 = accepted.

Outcome classes: :class:`Rejected` (the provider answered and refused — the message did not
go out; not retried), :class:`Transient` (it was *not* accepted and may be tried again:
connection refused, HTTP 5xx), :class:`Unknown` (ambiguous: a read timeout after sending). The API key never appears in errors or logs.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

DEFAULT_URL = "https://sms.ru/sms/send"


class SmsError(Exception):
    pass


class Rejected(SmsError):
    """The gateway answered and did not accept the message."""


class Transient(SmsError):
    """The gateway did not accept the message now; trying again later is safe."""


class Unknown(SmsError):
    """We cannot tell whether the gateway accepted it (timeout after sending)."""


@dataclass(frozen=True)
class Gateway:
    api_id: str
    sender: str = ""
    api_url: str = DEFAULT_URL
    timeout: float = 15.0

    def send(self, phone: str, text: str) -> str:
        """Send ``text`` to ``phone`` (E.164); returns the provider's ``sms_id``."""
        to = "".join(ch for ch in phone if ch.isdigit())
        data = {"api_id": self.api_id, "to": to, "msg": text, "json": "1"}
        if self.sender:
            data["from"] = self.sender
        try:
            reply = requests.post(self.api_url, data=data, timeout=self.timeout)
        except requests.ConnectionError as exc:
            raise Transient(f"SMS gateway unreachable: {type(exc).__name__}") from None
        except requests.Timeout:
            raise Unknown("SMS gateway did not answer in time") from None
        except requests.RequestException as exc:  # a bad URL setting: nothing was sent
            raise Rejected(f"SMS gateway request invalid: {type(exc).__name__}") from None
        if reply.status_code >= 500:
            raise Transient(f"SMS gateway HTTP {reply.status_code}")
        try:
            body = reply.json()
        except ValueError:
            raise Rejected(f"SMS gateway HTTP {reply.status_code}: not JSON") from None
        if str(body.get("status")) != "OK":
            code, text_ = body.get("status_code"), body.get("status_text") or ""
            raise Rejected(f"SMS.ru {code}: {text_}".strip())
        one = (body.get("sms") or {}).get(to) or {}
        if str(one.get("status")) != "OK" or not one.get("sms_id"):
            code, text_ = one.get("status_code"), one.get("status_text") or ""
            raise Rejected(f"SMS.ru {code}: {text_}".strip())
        return str(one["sms_id"])
