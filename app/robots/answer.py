"""The robot's answer to the portal: ``bizproc.event.send`` (protocol §6.3).

An :class:`Answer` is built once per call and stored before it is sent, so a retried job
re-sends exactly the same answer. On failure the ``error`` return value carries the text
(when the robot declares it) and ``log_message`` always does, so the automation log shows
why instead of a silent timeout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.robots.properties import as_plain
from app.robots.spec import RobotSpec

MAX_LOG = 2000  # a log line, not a dump


@dataclass(frozen=True)
class Answer:
    return_values: Mapping[str, Any] = field(default_factory=dict)
    log_message: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def success(spec: RobotSpec | None, returns: Mapping[str, Any], log: str = "") -> Answer:
    """Only declared return codes go out (the portal ignores others anyway), as plain values;
    a declared ``error`` return is sent empty so a previous error value is cleared."""
    declared = {p.code for p in spec.returns} if spec else set(returns)
    values = {k: as_plain(v) for k, v in returns.items() if k in declared and v is not None}
    if "error" in declared:
        values.setdefault("error", "")
    return Answer(values, _clip(log or "OK"))


def failure(spec: RobotSpec | None, message: str) -> Answer:
    text = _clip(message or "ошибка робота (robot error)")
    declared = {p.code for p in spec.returns} if spec else set()
    values = {"error": text} if "error" in declared else {}
    return Answer(values, f"Ошибка: {text}", error=text)


def send(client: Any, event_token: str, answer: Answer) -> None:
    """``bizproc.event.send`` through the gateway at robot priority; raises PortalError."""
    params = {
        "event_token": event_token,
        "return_values": dict(answer.return_values),
        "log_message": answer.log_message,
    }
    client.call("bizproc.event.send", params, priority="robots")


def _clip(text: str) -> str:
    text = str(text).strip()
    return text if len(text) <= MAX_LOG else text[: MAX_LOG - 1] + "…"
