"""Metal: escalation of untouched leads (README «escalation of untouched leads»).

A lead that nobody works on in an active stage («Не обработан», «Не хватает данных»,
«Данные заполнены», «Передан менеджеру») is flagged to the head of sales after
``untouched_alert_hours`` (default 24) and moved to «Зависшие лиды» after
``stalled_after_days`` (default 14) — the failure stage the seed keeps for such leads.

"Untouched" means: no new activity (call, e-mail, to-do, meeting) on the lead and no move
since the clock started. The clock starts when the lead arrives and restarts whenever an
activity is added to it, someone moves it to another active stage or hands it to someone
else; the app's own routing moves and timeline comments do not come back as changes, so
they do not restart it. (The lead's ``lastActivityTime`` is not used: the app's own
timeline comments move it too.) The timer job re-checks condition ``lead_untouched`` — the
lead is still in an active stage — on the fresh lead before acting. Texts are settings (``untouched_alert_text``,
``untouched_stalled_text``) with ``{title}``, ``{stage}``, ``{hours}``, ``{days}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from app.domain.sequences import Firing, Sequence, Step
from app.rules import actions as A
from app.rules.model import (
    RESPONSIBLE_FIELD,
    STAGE_FIELD,
    Rule,
    RuleContext,
    on_created,
    on_responsible_changed,
    on_stage_entered,
)
from app.timers import conditions
from app.timers import sequences as seq
from app.timers.steps import render

ACTIVE = (
    "metal.lead.unprocessed",
    "metal.lead.data_missing",
    "metal.lead.data_complete",
    "metal.lead.handed_over",
)
STALLED = "metal.lead.stalled"
KIND = "metal.untouched"
LEAD_TYPE_ID = "1"  # crm.activity OWNER_TYPE_ID of a lead


def _hours(settings: Mapping[str, Any]) -> float:
    return float(settings.get("untouched_alert_hours") or 24)


def _days(settings: Mapping[str, Any]) -> float:
    return float(settings.get("stalled_after_days") or 14)


def untouched_sequence(settings: Mapping[str, Any]) -> Sequence:
    alert = timedelta(hours=_hours(settings))
    stalled = max(timedelta(days=_days(settings)), alert)
    return Sequence(
        "metal_untouched",
        (
            Step(alert, "notify", ("head_of_sales",), template="alert"),
            Step(stalled - alert, "move_stage", params={"stage": "stalled"}),
        ),
        stop_condition="lead_untouched",
        collapse=True,  # after an outage past both steps: only the move
    )


def _stage_name(code: Any) -> str:
    from app.playbooks.metal import LEAD_STAGES

    for spec in LEAD_STAGES:
        if spec.code == code:
            return spec.name.ru
    return str(code or "")


def _text(ctx: RuleContext, key: str) -> str:
    payload = ctx.change.detail.get("payload") or {}
    return render(
        str(ctx.settings.get(key) or ""),
        ctx,
        stage=_stage_name((ctx.record or {}).get(STAGE_FIELD) or payload.get("stage")),
        hours=f"{_hours(ctx.settings):g}",
        days=f"{_days(ctx.settings):g}",
    )


def act(firing: Firing, ctx: RuleContext) -> list[A.Action]:
    rid = ctx.change.record_id
    if firing.step.action == "notify":
        users = seq.audience_ids(ctx, ("head_of_sales",))
        text = _text(ctx, "untouched_alert_text")
        return [A.Notify(users, text)] if users and text.strip() else []
    text = _text(ctx, "untouched_stalled_text")
    out: list[A.Action] = [A.MoveStage("lead", rid, STALLED)]
    if text.strip():
        out.append(A.TimelineComment("lead", rid, text))
        who = (ctx.record or {}).get(RESPONSIBLE_FIELD)
        if who:
            out.append(A.Notify((int(who),), text))
    return out


UNTOUCHED = seq.SequenceSpec(
    KIND,
    "lead",
    build=untouched_sequence,
    act=act,
    cancel_on="lead_untouched",
    roles=lambda _s: ("head_of_sales",),
)


@conditions.condition("lead_untouched")
def lead_touched(record: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    """Stop when the lead left the active stages (activities restart the clock instead)."""
    if record.get(STAGE_FIELD) not in ACTIVE:
        return f"not in an active stage: now {record.get(STAGE_FIELD)}"
    return None


def restart(ctx: RuleContext) -> list[A.Action]:
    """(Re)start the clock for a lead in an active stage; stop it anywhere else."""
    stage = (ctx.record or {}).get(STAGE_FIELD)
    if stage not in ACTIVE:
        return seq.stop(UNTOUCHED, ctx)
    payload = {"stage": stage, "since": ctx.now.isoformat()}
    return [*seq.stop(UNTOUCHED, ctx), *seq.start(UNTOUCHED, ctx, payload=payload)]


def activity_added(ctx: RuleContext) -> list[A.Action]:
    """Someone worked on a lead (an activity was added to it): its clock starts over."""
    activity = ctx.record or {}
    if str(activity.get("OWNER_TYPE_ID")) != LEAD_TYPE_ID or not activity.get("OWNER_ID"):
        return []
    lead_id = int(activity["OWNER_ID"])
    on_lead = replace(ctx, change=replace(ctx.change, entity="lead", record_id=lead_id))
    payload = {"since": ctx.now.isoformat()}
    return [*seq.stop(UNTOUCHED, on_lead), *seq.start(UNTOUCHED, on_lead, payload=payload)]


RULES = [
    Rule("untouched_on_activity", "activity", on_created(), activity_added),
    Rule("untouched_on_stage", "lead", on_stage_entered(), restart),
    Rule("untouched_on_responsible", "lead", on_responsible_changed(), restart),
    UNTOUCHED.rule("untouched_fire"),
]
