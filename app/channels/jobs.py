"""The send job: ``send_message(member_id, message_id)`` — gather → decide → claim → send.

Exactly once: the row is claimed (``queued`` → ``sending``, committed) before the provider
is called, and the sending job holds a Redis lease (:func:`lease_key`, :data:`LEASE_S`)
while it talks to the provider. A job that finds the row ``sending`` with the lease alive
leaves it to its owner; with the lease gone the owner died mid-send (a SIGKILLed worker):
it does not send again, marks the row ``uncertain`` and says so on the record. A row already final (``sent``/``refused``/``failed``/``uncertain``) is left alone, so
replays and duplicate jobs are no-ops.

Failures: "not accepted now" (rate limit, gateway down) puts the row back to ``queued`` and
raises for RQ's retry with backoff; after the last retry the row is ``failed``, the record
gets a timeline comment saying what did not go out and why, and the metric counts it. Bad
input (no recipient, invalid address, unresolved placeholder, do-not-contact, no channel on
the portal) is ``refused`` with the reason, also commented on the record — never a crash.
"""

from __future__ import annotations

import logging
from typing import Any

from app.channels import adapters, gather
from app.channels.metrics import observe
from app.channels.plan import Message, Portal, decide, order
from app.portal.errors import PortalError, is_retryable
from app.store import outbox

log = logging.getLogger(__name__)

LABELS = {"email": "e-mail", "sms": "SMS", "messenger": "мессенджер"}
LEASE_S = 120  # longer than any one send: gateway timeout + the portal client's retries


def lease_key(member_id: str, message_id: int) -> str:
    return f"b24:sending:{member_id}:{int(message_id)}"


class SendDeferred(Exception):
    """Not sent now, certainly not sent: RQ retries the job (see ``dispatch``)."""


def _services():
    from app.services import current

    return current()


def _last_attempt() -> bool:
    from rq import get_current_job

    job = get_current_job()
    return job is None or not getattr(job, "retries_left", 0)


def send_message(member_id: str, message_id: int) -> str:
    """Send outbox message ``message_id`` of ``member_id``; returns its final state."""
    from app.sync.context import portal_context

    services = _services()
    ctx = portal_context(services, member_id)
    with ctx.session_factory() as session:
        row = outbox.get(session, member_id, message_id)
        if row is None:
            return "gone"
        if row.state in outbox.FINAL:
            return row.state
        if row.state == outbox.SENDING:
            if ctx.redis.exists(lease_key(member_id, message_id)):
                return outbox.SENDING  # its job is still at it
            done = _recover(ctx, session, row)
            if done is not None:
                return done
        msg = Message(row.wanted, row.subject, row.text, row.template)
        entity, record_id, key = row.entity, int(row.record_id), row.key
        settings = dict(ctx.settings.get(row.playbook) or {})
    try:
        return _send(ctx, member_id, message_id, msg, entity, record_id, key, settings)
    except (PortalError, ConnectionError, TimeoutError) as exc:
        # gathering failed before anything was claimed: retry if it may pass later
        if is_retryable(exc) and not _last_attempt():
            raise SendDeferred(f"portal: {exc}") from None
        return _final(ctx, member_id, message_id, outbox.FAILED, f"портал: {exc}")


def _recover(ctx, session, row) -> str | None:
    """A row left ``sending`` by a dead job. An e-mail can be checked: the activity carries
    our key in ``ORIGIN_ID`` — found, it was sent; not found, the portal never took it and
    it goes out now (None: continue). Other channels cannot be checked: ``uncertain``."""
    member_id, message_id = row.member_id, int(row.id)
    if row.channel == "email":
        try:
            activity = adapters.find_email(ctx.client, row.key)
        except PortalError as exc:
            log.warning("message %s: cannot check the portal for its e-mail: %s", message_id, exc)
        else:
            if activity is not None:
                outbox.settle(session, row, outbox.SENT, provider_id=activity)
                session.commit()
                observe("email", outbox.SENT)
                return outbox.SENT
            outbox.settle(session, row, outbox.QUEUED, error="прерванная отправка: письма нет")
            session.commit()
            return None
    reason = "отправка прервалась (процесс остановлен во время отправки); не повторяем"
    outbox.settle(session, row, outbox.UNCERTAIN, error=reason)
    session.commit()
    return _finish(ctx, member_id, message_id, outbox.UNCERTAIN, reason)


def _send(ctx, member_id, message_id, msg, entity, record_id, key, settings) -> str:
    item = gather.record(ctx.client, ctx.naming, entity, record_id)
    if item is None:
        return _final(ctx, member_id, message_id, outbox.REFUSED, "запись удалена", note=False)
    channels = order(msg.wanted, settings.get("message_channels"))
    sms_on = adapters.gateway(settings) is not None

    asked: list[bool] = []

    def need_chats(reached) -> bool:  # only when the messenger comes before a usable channel
        if "messenger" not in channels:
            return False
        without = decide(msg, reached, Portal(sms=sms_on, messenger=False), settings)
        wanted = without.channel is None or channels.index("messenger") < channels.index(
            without.channel
        )
        asked.append(wanted)
        return wanted

    client, problem = gather.client_of(
        ctx.client, ctx.naming, entity, item, settings, want_chats=need_chats
    )
    portal = Portal(sms=sms_on, messenger=problem is None)

    def with_chats():
        """The client with open-line chats, for a fallback that reaches the messenger."""
        found, trouble = gather.client_of(
            ctx.client, ctx.naming, entity, item, settings, want_chats=True
        )
        return found, Portal(sms=sms_on, messenger=trouble is None)

    plan = decide(msg, client, portal, settings)
    if plan.channel is None:
        return _final(ctx, member_id, message_id, outbox.REFUSED, plan.reason or "")
    with ctx.session_factory() as session:
        row = outbox.get(session, member_id, message_id)
        if row is None or not outbox.claim(session, row):
            return row.state if row is not None else "gone"  # another job has it
        session.commit()
    lease = lease_key(member_id, message_id)
    ctx.redis.set(lease, "1", ex=LEASE_S)
    try:
        etid = int(ctx.naming.entity_type_id(entity))
        out = adapters.Outgoing(
            key, entity, record_id, etid, item.get("assignedById"), plan, settings
        )
        later = with_chats if "messenger" in channels and not any(asked) else None
        return _deliver(ctx, member_id, message_id, msg, client, portal, out, later)
    finally:
        ctx.redis.delete(lease)


def _deliver(ctx, member_id, message_id, msg, client, portal, out, with_chats=None) -> str:
    """Send through the plan's channel; a channel found unusable passes to the next one
    (``with_chats`` fetches the open-line chats first when they were not asked yet)."""
    skip: list[str] = []
    notes: list[str] = []
    plan = out.plan
    while True:
        out.plan = plan
        _trying(ctx, member_id, message_id, plan.channel)
        try:
            provider_id = adapters.SENDERS[plan.channel](ctx.client, out)
        except adapters.Unavailable as exc:
            skip.append(plan.channel)
            notes.append(str(exc))
            if with_chats is not None:
                client, portal = with_chats()
                with_chats = None
            plan = decide(msg, client, portal, out.settings, skip=skip)
            if plan.channel is None:
                reason = "; ".join([*notes, plan.reason or ""]).strip("; ")
                return _final(ctx, member_id, message_id, outbox.FAILED, reason)
            continue
        except adapters.RetryLater as exc:
            return _later(ctx, member_id, message_id, str(exc))
        except adapters.Uncertain as exc:
            return _final(ctx, member_id, message_id, outbox.UNCERTAIN, str(exc))
        return _sent(ctx, member_id, message_id, out, provider_id, notes)


def _trying(ctx, member_id, message_id, channel: str) -> None:
    """Record the channel about to be called, so a job taking over after a crash knows what
    to check (:func:`_recover`)."""
    with ctx.session_factory() as session:
        row = outbox.get(session, member_id, message_id)
        row.channel = channel
        session.commit()


def _sent(ctx, member_id, message_id, out, provider_id: str, notes: list[str]) -> str:
    plan = out.plan
    with ctx.session_factory() as session:
        row = outbox.get(session, member_id, message_id)
        outbox.settle(
            session,
            row,
            outbox.SENT,
            channel=plan.channel,
            recipient=plan.recipient,
            text=plan.text,
            subject=plan.subject,
            provider_id=str(provider_id)[:128],
            error="; ".join(notes) or None,
            detail={"passed": list(plan.passed) + notes},
        )
        session.commit()
    observe(plan.channel, outbox.SENT)
    if plan.channel == "sms":  # after the commit: a failure here never resends the SMS
        try:
            where = adapters.record_sms(ctx.client, out, provider_id)
        except PortalError as exc:
            where = f"not recorded: {exc.code}"
            log.warning("message %s: SMS sent but not recorded on the record: %s", message_id, exc)
        with ctx.session_factory() as session:
            row = outbox.get(session, member_id, message_id)
            row.detail = {**(row.detail or {}), "recorded": where}
            session.commit()
    return outbox.SENT


def _later(ctx, member_id, message_id, reason: str) -> str:
    """Certainly not sent: back to ``queued`` for the retry, or ``failed`` on the last try."""
    if _last_attempt():
        return _final(ctx, member_id, message_id, outbox.FAILED, reason)
    with ctx.session_factory() as session:
        row = outbox.get(session, member_id, message_id)
        outbox.settle(session, row, outbox.QUEUED, error=reason)
        session.commit()
    raise SendDeferred(reason)


def _final(ctx, member_id, message_id, state: str, reason: str, *, note: bool = True) -> str:
    with ctx.session_factory() as session:
        row = outbox.get(session, member_id, message_id)
        if row is None:
            return "gone"
        outbox.settle(session, row, state, error=reason[:4000])
        session.commit()
    return _finish(ctx, member_id, message_id, state, reason, note=note)


def _finish(ctx, member_id, message_id, state, reason, *, note: bool = True) -> str:
    """Count it and tell the record's timeline what did not go out and why."""
    with ctx.session_factory() as session:
        row = outbox.get(session, member_id, message_id)
        info: dict[str, Any] = {
            "entity": row.entity,
            "record_id": int(row.record_id),
            "channel": row.channel or row.wanted,
            "subject": row.subject,
            "text": row.text,
        }
    observe(info["channel"], state)
    log.warning("message %s %s: %s", message_id, state, reason)
    if not note:
        return state
    head = {
        outbox.REFUSED: "Сообщение клиенту не отправлено",
        outbox.FAILED: "Сообщение клиенту не отправлено после всех попыток",
        outbox.UNCERTAIN: "Сообщение клиенту, возможно, не отправлено",
    }.get(state, "Сообщение клиенту")
    what = info["subject"] or info["text"][:80]
    text = f"{head} ({LABELS.get(info['channel'], info['channel'])}): «{what}».\nПричина: {reason}"
    try:
        etid = int(ctx.naming.entity_type_id(info["entity"]))
        adapters.comment(ctx.client, info["entity"], info["record_id"], etid, text)
    except (PortalError, KeyError, ValueError) as exc:
        log.warning("message %s: could not comment on the record: %s", message_id, exc)
    return state
