"""Kitchens: every new unprocessed lead is announced; SOS until someone takes it.

* A new lead in «Не обработан» starts the SOS sequence: at once every sales employee is
  told; every ``sos_interval_minutes`` (default 15) the notification repeats with a wider
  audience — the circles of ``sos_audience`` (default sales → + head of sales → + CEO) —
  and then keeps repeating to everyone until the lead is taken.
* Taken = the lead got another responsible: it moves to «Менеджер назначен» and the SOS
  stops (the timer is cancelled; a timer already on its way re-checks ``lead_taken`` and
  does nothing).
* ``sos_pool_user_ids`` (optional setting): responsibles that mean "nobody yet" (e.g. the
  integration user forms and calls are assigned to). When set, a lead created with someone
  else as responsible is taken from the start; when unset, every new unprocessed lead
  counts as unassigned until its responsible changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from app.domain.sequences import Firing, Sequence, Step
from app.playbooks.kitchens.rules_control import own_stage
from app.rules import actions as A
from app.rules.model import (
    RESPONSIBLE_FIELD,
    STAGE_FIELD,
    Rule,
    RuleContext,
    on_created,
    on_responsible_changed,
    on_stage_left,
)
from app.timers import sequences as seq
from app.timers.steps import render

UNPROCESSED = "kitchens.lead.unprocessed"
ASSIGNED = "kitchens.lead.assigned"
DEFAULT_CIRCLES = ("sales", "head_of_sales", "ceo")
ANNOUNCE = "Новый лид «{title}»: возьмите его в работу"
SOS = "SOS: лид «{title}» не обработан уже {minutes} мин"


def sos_sequence(settings: Mapping[str, Any]) -> Sequence:
    """Circle i joins after i intervals; the last step repeats until the lead is taken."""
    every = timedelta(minutes=float(settings.get("sos_interval_minutes") or 15))
    circles = tuple(settings.get("sos_audience") or DEFAULT_CIRCLES)
    # the texts are settings (``sos_announce_text``, ``sos_text``; {title}, {minutes})
    announce = str(settings.get("sos_announce_text") or "").strip() or ANNOUNCE
    sos = str(settings.get("sos_text") or "").strip() or SOS
    steps = [Step(timedelta(0), "notify", circles[:1], announce)]
    for i in range(2, len(circles) + 1):
        steps.append(Step(every, "notify", circles[:i], sos))
    if len(steps) == 1:
        steps.append(Step(every, "notify", circles, sos))
    last = steps[-1]
    steps[-1] = Step(last.after, last.action, last.audience, last.template, repeat_every=every)
    return Sequence("sos", tuple(steps), stop_condition="lead_taken", collapse=True)


def _notify(firing: Firing, ctx: RuleContext) -> list[A.Action]:
    users = seq.audience_ids(ctx, firing.step.audience)
    if not users:
        return []
    started = ctx.change.detail.get("payload", {}).get("started_at")
    minutes = 0
    if started:
        from datetime import datetime

        minutes = int((ctx.now - datetime.fromisoformat(started)).total_seconds() // 60)
    return [A.Notify(users, render(firing.step.template, ctx, minutes=minutes))]


SOS_SPEC = seq.SequenceSpec(
    "kitchens.sos",
    "lead",
    build=sos_sequence,
    act=_notify,
    cancel_on="lead_taken",
)


ANSWERED = frozenset({"CALL", "CALLBACK"})  # telephony gives the lead to whoever answered


def _is_unassigned(ctx: RuleContext) -> bool:
    """No specific manager yet. With ``sos_pool_user_ids`` set: the responsible is empty or
    one of those integration users. Without it (a fresh install): every lead is
    unassigned except an answered call (source CALL/CALLBACK given to someone other than
    the user that created it — telephony routes it to whoever answered) and a lead typed
    in by hand (``rules_assignment`` gives it to its creator) — both start with their
    manager and go to «Менеджер назначен» at once, like a lead assigned later. A call lead
    still with its creator is unassigned: the integration user cannot be told apart from
    a manager without ``sos_pool_user_ids``."""
    from app.playbooks.kitchens.rules_assignment import manual_creator

    record = ctx.record or {}
    responsible = record.get(RESPONSIBLE_FIELD)
    if responsible in (None, "", 0, "0"):
        return True
    pool = ctx.settings.get("sos_pool_user_ids") or []
    if pool:
        return int(responsible) in {int(p) for p in pool}
    creator = record.get("createdBy")
    answered = str(record.get("sourceId") or "").upper() in ANSWERED and (
        creator in (None, "", 0, "0") or int(creator) != int(responsible)
    )
    return not answered and manual_creator(ctx) is None


def _unprocessed(ctx: RuleContext) -> bool:
    """The lead is in «Не обработан». Compared through the portal's stage mapping: with
    metal installed too, the shared ``NEW`` stage reaches rules as ``metal.lead.unprocessed``
    (the code the install kept), which is kitchens' «Не обработан» as well."""
    return own_stage(ctx.schema, (ctx.record or {}).get(STAGE_FIELD)) == UNPROCESSED


def start_sos(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    if not _unprocessed(ctx):
        return []
    if not _is_unassigned(ctx):
        from app.playbooks.kitchens.rules_assignment import manual_creator

        if manual_creator(ctx) is not None:
            return []  # rules_assignment gives it to its creator and moves it
        return [A.MoveStage("lead", ctx.change.record_id, ASSIGNED)]
    # the stage as the record carries it: the timer's cancel check compares it verbatim
    payload = {"stage": record.get(STAGE_FIELD), "responsible": record.get(RESPONSIBLE_FIELD)}
    return seq.start(SOS_SPEC, ctx, payload=payload)


def lead_taken(ctx: RuleContext) -> list[A.Action]:
    """A new responsible takes the lead: «Менеджер назначен», SOS off."""
    if not _unprocessed(ctx):
        return seq.stop(SOS_SPEC, ctx)
    return [A.MoveStage("lead", ctx.change.record_id, ASSIGNED), *seq.stop(SOS_SPEC, ctx)]


RULES = [
    Rule("sos_start", "lead", on_created(), start_sos),
    Rule("sos_lead_taken", "lead", on_responsible_changed(), lead_taken),
    Rule("sos_stage_left", "lead", on_stage_left(UNPROCESSED), lambda ctx: seq.stop(SOS_SPEC, ctx)),
    SOS_SPEC.rule("sos_fire"),
]
