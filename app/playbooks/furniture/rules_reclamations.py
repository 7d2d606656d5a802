"""Furniture reclamations (seed 000: «выделили две воронки: продажи и рекламации»).

The pipeline «Рекламации» (received → under review → resolved / rejected) with the rules a
furniture maker expects:

* **linked to the sale** — a reclamation leaves «Получена» only with «Исходная сделка» set,
  and «Отклонена» needs «Причина отклонения рекламации»; a move with gaps goes back and the
  responsible is told what is missing (the generic stage gate, ``app.rules.stage_gate``);
* **an owner and a deadline per stage** — ``reclamation_stages``: ``{stage: {"hours": N,
  "owner": user id}}``; entering a stage hands the reclamation to the stage's owner (0: keep
  the responsible), gives them a task due in N hours and starts a timer for that moment;
* **escalation** — when the timer fires and the reclamation is still in that stage, the
  owner and the head of sales are notified that the stage's deadline passed;
* **the client is told** when it is received (created) and when it is resolved
  (``reclamation_*_text``, ``{id}`` and ``{title}``, through the client channels).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from app.domain.validation import FieldRule
from app.rules import actions as A
from app.rules.model import (
    RESPONSIBLE_FIELD,
    STAGE_FIELD,
    Rule,
    RuleContext,
    on_stage_entered,
    on_timer,
)
from app.rules.stage_gate import StageGate
from app.timers import handlers

P = "furniture.reclamation."
RECEIVED, REVIEW, RESOLVED, REJECTED = P + "received", P + "review", P + "resolved", P + "rejected"
ORIGINAL, REASON = "UF_CRM_FR_ORIGINAL_DEAL", "UF_CRM_FR_RECL_REASON"
OVERDUE = "furniture.reclamation_overdue"
handlers.register_kind(OVERDUE, ("head_of_sales",))

GATE = StageGate(
    "deal",
    P,
    "Рекламация «{title}» возвращена на прежнюю стадию: ",
    (RECEIVED, REVIEW),
    {RECEIVED: (FieldRule(ORIGINAL, "Исходная сделка (продажа)", "link"),)},
    {
        RESOLVED: (REVIEW, ()),
        REJECTED: (None, (FieldRule(REASON, "Причина отклонения рекламации"),)),
    },
)
STAGE_NAMES = {RECEIVED: "Получена", REVIEW: "На рассмотрении"}


def _plan(settings: Mapping[str, Any], stage: str) -> tuple[float, int]:
    row = (settings.get("reclamation_stages") or {}).get(stage) or {}
    try:
        return float(row.get("hours") or 0), int(row.get("owner") or 0)
    except (TypeError, ValueError, AttributeError):
        return 0.0, 0


def _message(ctx: RuleContext, key: str) -> A.MessageClient:
    record = ctx.record or {}
    rid = ctx.change.record_id
    text = str(ctx.settings.get(key) or "").format(id=rid, title=record.get("title") or "")
    channel = str(ctx.settings.get("reclamation_channel") or "sms")
    return A.MessageClient(channel, ("deal", rid), "Рекламация", text, key=key)


def on_stage(ctx: RuleContext) -> list[A.Action]:
    """Entering «Получена» / «На рассмотрении»: owner, task with the deadline, timer; a new
    reclamation also tells the client it was received."""
    record = ctx.record or {}
    stage = GATE.own_stage(ctx.schema, record.get(STAGE_FIELD))
    if stage != GATE.own_stage(ctx.schema, ctx.change.stage_to, ctx.change.stage_to_codes):
        return []
    if not GATE.forward(ctx) or GATE.blocked(ctx):
        return []
    rid = ctx.change.record_id
    out: list[A.Action] = []
    if stage == RECEIVED and ctx.change.before is None:
        out.append(_message(ctx, "reclamation_received_text"))
    hours, owner = _plan(ctx.settings, stage)
    who = owner or record.get(RESPONSIBLE_FIELD)
    if owner and str(owner) != str(record.get(RESPONSIBLE_FIELD)):
        out.append(A.UpdateFields("deal", rid, {RESPONSIBLE_FIELD: owner}, key="owner"))
    if hours and who:
        due = ctx.now + timedelta(hours=hours)
        title = f"Рекламация «{record.get('title') or rid}»: {STAGE_NAMES[stage]}"
        out.append(A.CreateTask(title, int(who), deadline=due, bind_to=("deal", rid),
                                checklist=_checklist(stage), key="task", tag=f"furniture.{stage}"))  # fmt: skip
        payload = {"stage": stage, "owner": int(who)}
        out.append(A.StartTimer(OVERDUE, due, ("deal", rid), payload, "stage_left", key="timer"))
    return out


def _checklist(stage: str) -> tuple[str, ...]:
    if stage == RECEIVED:
        return ("Связаться с клиентом", "Привязать исходную сделку", "Запросить фото дефекта")
    return ("Осмотреть изделие или фото", "Решить: замена, ремонт или отказ", "Сообщить клиенту")


def on_overdue(ctx: RuleContext) -> list[A.Action]:
    """The stage's deadline passed while the reclamation is still there: escalate."""
    payload = ctx.change.detail.get("payload") or {}
    record = ctx.record or {}
    stage = str(payload.get("stage") or "")
    if GATE.own_stage(ctx.schema, record.get(STAGE_FIELD)) != stage:
        return []
    heads = tuple((ctx.related.get("audiences") or {}).get("head_of_sales") or ())
    owner = payload.get("owner")
    users = tuple(dict.fromkeys([*(int(h) for h in heads), *([int(owner)] if owner else [])]))
    if not users:
        return []
    rid = ctx.change.record_id
    text = (
        f"Рекламация «{record.get('title') or rid}» просрочена на стадии "
        f"«{STAGE_NAMES.get(stage, stage)}»: срок истёк, решения нет."
    )
    return [A.Notify(users, text, key="escalate"), A.TimelineComment("deal", rid, text, key="note")]


def on_resolved(ctx: RuleContext) -> list[A.Action]:
    if (
        GATE.blocked(ctx)
        or GATE.own_stage(ctx.schema, (ctx.record or {}).get(STAGE_FIELD)) != RESOLVED
    ):
        return []
    return [_message(ctx, "reclamation_resolved_text")]


def _moves(*stages: str):
    return replace(on_stage_entered(*stages), on_new_records=False)


RULES = [
    Rule("reclamation_gate", "deal", _moves(*GATE.controlled()), GATE.control),
    Rule("reclamation_stage", "deal", on_stage_entered(RECEIVED, REVIEW), on_stage),
    Rule("reclamation_resolved", "deal", on_stage_entered(RESOLVED), on_resolved),
    Rule("reclamation_overdue", "deal", on_timer(OVERDUE), on_overdue),
]
