"""Turn a sequence step (``app.domain.sequences.Step``) into actions, for cadences.

``standard_act(...)`` returns an ``act`` for :class:`~app.timers.sequences.SequenceSpec`
understanding the step actions the domain's sequences use:

* ``notify``          — Notify the step's audience roles (resolved by the timer job).
* ``message_client``  — MessageClient with the text ``texts[step.template]``.
* ``task``            — CreateTask for the responsible, bound to the record.
* ``move_stage``      — MoveStage to ``stages[step.params["stage"]]``.
* ``close_lost``      — optionally a Contact from the lead's name and phone, then MoveStage
                        to ``stages[step.params["stage"]]``.

The metal deferred-demand cadence is this plus its own ``texts`` and ``stages``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from app.domain.sequences import Firing
from app.rules import actions as A
from app.rules.model import RESPONSIBLE_FIELD, RuleContext
from app.timers.sequences import audience_ids


def render(template: str, ctx: RuleContext, **extra: Any) -> str:
    """``{title}``, ``{id}`` and ``extra`` substituted; unknown placeholders stay as written."""
    record = ctx.record or {}
    values = {
        "title": record.get("title") or f"#{ctx.change.record_id}",
        "id": ctx.change.record_id,
    }
    values.update(extra)

    class _Keep(dict):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    return template.format_map(_Keep(values))


def standard_act(
    *,
    texts: Mapping[str, str] | None = None,
    stages: Mapping[str, str] | None = None,
    channel: str = "email",
    task_days: int = 1,
):
    texts = dict(texts or {})
    stages = dict(stages or {})

    def act(firing: Firing, ctx: RuleContext) -> list[A.Action]:
        step, entity, rid = firing.step, ctx.change.entity, ctx.change.record_id
        record = ctx.record or {}
        if step.action == "notify":
            users = audience_ids(ctx, step.audience)
            return [A.Notify(users, render(step.template, ctx))] if users else []
        if step.action == "message_client":
            text = render(texts.get(step.template, step.template), ctx)
            subject = record.get("title") or ""
            action = A.MessageClient(channel, (entity, rid), subject, text, template=step.template)
            return [action]
        if step.action == "task":
            responsible = record.get(RESPONSIBLE_FIELD)
            if not responsible:
                return []
            return [
                A.CreateTask(
                    render(step.template, ctx),
                    int(responsible),
                    deadline=ctx.now + timedelta(days=task_days),
                    bind_to=(entity, rid),
                )
            ]
        if step.action in ("move_stage", "close_lost"):
            out: list[A.Action] = []
            if step.params.get("create_contact"):
                out += contact_from(ctx)
            out.append(A.MoveStage(entity, rid, stages[str(step.params["stage"])]))
            return out
        raise ValueError(f"unknown step action {step.action!r}")

    return act


def contact_from(ctx: RuleContext) -> list[A.Action]:
    """A Contact from the record's name and phone, linked back to it."""
    record = ctx.record or {}
    fields: dict[str, Any] = {
        "name": record.get("name") or record.get("title") or f"#{ctx.change.record_id}",
    }
    if record.get("lastName"):
        fields["lastName"] = record["lastName"]
    phones = [
        {"valueType": "WORK", "value": f.get("value"), "typeId": "PHONE"}
        for f in record.get("fm") or []
        if isinstance(f, Mapping) and f.get("typeId") == "PHONE" and f.get("value")
    ]
    if phones:
        fields["fm"] = phones
    return [
        A.CreateRecord("contact", fields, ref="contact", key="contact"),
        A.LinkRecords(
            (ctx.change.entity, ctx.change.record_id),
            ("contact", A.Ref("contact")),
            via="contactId",
            key="contact_link",
        ),
    ]
