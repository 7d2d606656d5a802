"""The event inbox's decisions, without Flask: validate → authenticate → claim → mark dirty.

A record event costs one Redis round trip (``app.sync.dirty.admit``: delivery claim + the
record into the portal's dirty set + "is a drain scheduled?"); only when no drain is
scheduled does the caller enqueue one ``drain_changes`` job, which turns the dirty records
into ``process_change`` jobs (``app/jobs/events.py``).

The HTTP handler (``app/handlers/events.py``) parses the bracket form into a dict and calls
:func:`accept`. Nothing here talks to the portal, and nothing uses the domain or endpoints
from the request: a domain other than the stored one (a renamed portal) only schedules
``confirm_portal_address``, which learns the address from the OAuth server.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from app.store import inbox
from app.sync import dirty
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


_SCHEMA = EventSchema()  # the reference definition; the hot path uses :func:`validate_event`

# The same rules as EventSchema, checked by hand: marshmallow's per-field machinery was a
# tenth of the request's time. ``fullmatch`` is marginally stricter than the schema's
# ``^…$`` (no trailing newline), which only refuses what was never a portal's value.
_RE_NAME = re.compile(r"[A-Za-z0-9_]{1,100}")
_RE_TOKEN = re.compile(r"[\x21-\x7e]{1,128}")
_RE_MEMBER = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_RE_HANDLER = re.compile(r"\d{0,20}")
_RE_TS = re.compile(r"\d{0,12}")


def validate_event(form: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """``(event, [])`` shaped like ``EventSchema().load(form)``, or ``(None, fields in
    error)``. Unknown keys are dropped; optional fields default to ``None``."""
    errors = []
    event = form.get("event")
    if not isinstance(event, str) or not _RE_NAME.fullmatch(event):
        errors.append("event")
    handler = _optional(form, "event_handler_id", _RE_HANDLER, errors)
    ts = _optional(form, "ts", _RE_TS, errors)
    auth = form.get("auth")
    out_auth = None
    if not isinstance(auth, Mapping):
        errors.append("auth")
    else:
        member, token = auth.get("member_id"), auth.get("application_token")
        domain = auth.get("domain")
        if (
            not isinstance(member, str)
            or not _RE_MEMBER.fullmatch(member)
            or not isinstance(token, str)
            or not _RE_TOKEN.fullmatch(token)
            or not (domain is None or (isinstance(domain, str) and len(domain) <= 255))
        ):
            errors.append("auth")
        else:
            out_auth = {"member_id": member, "application_token": token, "domain": domain}
    if errors:
        return None, errors
    return {
        "event": event,
        "event_handler_id": handler,
        "data": form.get("data"),
        "ts": ts,
        "auth": out_auth,
    }, []


def _optional(form: Mapping[str, Any], name: str, pattern: re.Pattern, errors: list) -> Any:
    value = form.get(name)
    if value is not None and (not isinstance(value, str) or not pattern.fullmatch(value)):
        errors.append(name)
    return value


@dataclass(frozen=True)
class Verdict:
    status: int
    body: str
    enqueued: bool = False  # a job was enqueued (a drain)
    marked: bool = False  # the event's record is now dirty (False for replays and refusals)


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
    event, errors = validate_event(form)
    if event is None:
        return Verdict(400, f"malformed event: {errors}")
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
        and not same_host(installation.domain, auth["domain"])
    ):
        # The application token and member_id proved the portal; the domain is only its
        # claim (a renamed portal names its new one). Nothing here uses it: the event is
        # accepted and the address is confirmed the verified way (an OAuth refresh at the
        # stored server, app.jobs.events.confirm_portal_address), at most once a cooldown.
        confirm_address(redis, enqueue, installation.member_id)

    name = event["event"].upper()
    member_id = installation.member_id
    if name == "ONOFFLINEEVENT":
        # Both bindings of every event get it (online POST + offline row), so a notice
        # mostly announces rows the online delivery already brought: drained at the
        # clock's next catch-up slot, where covered rows cost no read (app.sync.offline)
        dirty.announce_offline(redis, member_id)
        return Verdict(200, "OK")
    target = record_of(name, event["data"] if isinstance(event["data"], Mapping) else None)
    if target is None:
        log.debug("event %s for %s ignored (no route)", name, member_id)
        return Verdict(200, "OK")
    digest = inbox.event_digest(name, event["event_handler_id"], event["ts"], event["data"])
    entity, record_id = target
    verb = name.removeprefix("ONCRM").split("_", 1)[0]
    outcome = dirty.admit(
        redis,
        member_id,
        digest,
        event["ts"],
        entity,
        record_id,
        now=now,
        is_add=verb.endswith("ADD"),
        is_update=verb.endswith("UPDATE"),
    )
    if outcome == dirty.SCHEDULE:
        try:
            enqueue("drain_changes", member_id)
        except Exception:
            # the record stays dirty; without the flag the next event schedules the drain
            dirty.unschedule(redis, member_id)
            raise
    marked = outcome in (dirty.ALREADY_SCHEDULED, dirty.SCHEDULE)
    return Verdict(200, "OK", marked=marked, enqueued=outcome == dirty.SCHEDULE)


ADDRESS_CHECK_COOLDOWN_S = 600


def confirm_address(redis: Any, enqueue: Enqueue, member_id: str) -> None:
    """Schedule one address confirmation per portal and cooldown: a burst of events (or a
    holder of the application token sending made-up domains) costs one token refresh."""
    key = f"b24:address-check:{member_id}"
    if not redis.set(key, b"1", nx=True, ex=ADDRESS_CHECK_COOLDOWN_S):
        return
    log.info("event for %s names another domain than the stored one: confirming", member_id)
    try:
        enqueue("confirm_address", member_id)
    except Exception:
        redis.delete(key)  # the next event tries again
        raise


def _verified(
    installation: Installation | None, auth: Mapping[str, Any], tokens_match: TokenCheck
) -> bool:
    if installation is None:
        return False
    return tokens_match(installation.application_token, auth["application_token"])


def same_host(stored: str, given: str) -> bool:
    def host(value: str) -> str:
        value = value.strip().lower()
        value = value.split("://", 1)[-1]
        return value.split("/", 1)[0]

    return host(stored) == host(given)
