"""The event inbox's decisions, without Flask: validate → authenticate → claim → enqueue.

The HTTP handler (``app/handlers/events.py``) parses the bracket form into a dict and calls
:func:`accept`. Nothing here talks to the portal, and nothing uses the domain or endpoints
from the request for anything but a consistency check against the stored installation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from app.store import inbox
from app.sync.events_map import record_of

log = logging.getLogger(__name__)

_NAME = validate.Regexp(r"^[A-Za-z0-9_]{1,100}$")
_TOKEN = validate.Regexp(r"^[\x21-\x7e]{1,128}$")  # printable ASCII: safe for compare_digest
_MEMBER = validate.Regexp(r"^[A-Za-z0-9_.-]{1,64}$")


class AuthSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    member_id = fields.String(required=True, validate=_MEMBER)
    application_token = fields.String(required=True, validate=_TOKEN)
    domain = fields.String(load_default=None, validate=validate.Length(max=255))


class EventSchema(Schema):
    """An outbound-event POST (app binding or outgoing webhook; protocol §5.3)."""

    class Meta:
        unknown = EXCLUDE

    event = fields.String(required=True, validate=_NAME)
    event_handler_id = fields.String(load_default=None, validate=validate.Regexp(r"^\d{0,20}$"))
    data = fields.Raw(load_default=None)
    ts = fields.String(load_default=None, validate=validate.Regexp(r"^\d{0,12}$"))
    auth = fields.Nested(AuthSchema, required=True)


_SCHEMA = EventSchema()  # building a Schema deep-copies its fields: once, not per request


@dataclass(frozen=True)
class Verdict:
    status: int
    body: str
    enqueued: bool = False


@dataclass(frozen=True)
class Installation:
    """What the inbox needs of an installation (app or outgoing-webhook)."""

    member_id: str
    application_token: str
    domain: str | None = None


Enqueue = Callable[..., Any]
TokenCheck = Callable[[str, str], bool]


def accept(
    form: Mapping[str, Any],
    *,
    find: Callable[[str], Installation | None],
    tokens_match: TokenCheck,
    redis: Any,
    enqueue: Enqueue,
    now: float | None = None,
    refind: Callable[[str], Installation | None] | None = None,
) -> Verdict:
    """Decide what to do with one event POST (see module doc).

    ``find`` may answer from a cache; on a token mismatch ``refind`` (uncached) is asked
    once, so a token rotated by ONAPPUPDATE is accepted at once."""
    try:
        event = _SCHEMA.load(dict(form))
    except ValidationError as exc:
        return Verdict(400, f"malformed event: {sorted(exc.messages)}")
    auth = event["auth"]
    installation = find(auth["member_id"])
    if refind is not None and not _verified(installation, auth, tokens_match):
        installation = refind(auth["member_id"])
    if not _verified(installation, auth, tokens_match):
        log.warning("refused %s: unknown member or wrong application token", event["event"])
        return Verdict(401, "unauthorized")
    if (
        installation.domain
        and auth["domain"]
        and not _same_host(installation.domain, auth["domain"])
    ):
        log.warning("refused %s for %s: domain mismatch", event["event"], auth["member_id"])
        return Verdict(403, "forbidden")

    name = event["event"].upper()
    member_id = installation.member_id
    if name == "ONOFFLINEEVENT":
        pending = inbox.pending_key(member_id, "offline", "-", 0)
        if inbox.mark_pending(redis, pending):
            _enqueue_or_release(redis, pending, enqueue, "catch_up_offline", member_id)
            return Verdict(200, "OK", enqueued=True)
        return Verdict(200, "OK")
    target = record_of(name, event["data"] if isinstance(event["data"], Mapping) else None)
    if target is None:
        log.info("event %s for %s ignored (no route)", name, member_id)
        return Verdict(200, "OK")
    digest = inbox.event_digest(name, event["event_handler_id"], event["ts"], event["data"])
    entity, record_id = target
    pending = inbox.pending_key(member_id, "change", entity, record_id)
    if inbox.admit(redis, member_id, digest, event["ts"], pending, now=now) == inbox.ENQUEUE:
        _enqueue_or_release(redis, pending, enqueue, "process_change", member_id, entity, record_id)
        return Verdict(200, "OK", enqueued=True)
    return Verdict(200, "OK")


def _enqueue_or_release(redis: Any, pending: str, enqueue: Enqueue, job: str, *args: Any) -> None:
    """Enqueue; if that fails, drop the pending marker again so the record's next event is
    not blocked behind a job that does not exist (the failure itself propagates: 5xx)."""
    try:
        enqueue(job, *args)
    except Exception:
        inbox.clear_pending(redis, pending)
        raise


def _verified(
    installation: Installation | None, auth: Mapping[str, Any], tokens_match: TokenCheck
) -> bool:
    if installation is None:
        return False
    return tokens_match(installation.application_token, auth["application_token"])


def _same_host(stored: str, given: str) -> bool:
    def host(value: str) -> str:
        value = value.strip().lower()
        value = value.split("://", 1)[-1]
        return value.split("/", 1)[0]

    return host(stored) == host(given)
