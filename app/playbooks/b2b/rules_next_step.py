"""B2B (spec §4 rule 4): no open deal without a next step.

When an activity of an open b2b deal is completed and the deal has no other open activity
(read in the event's own batch: ``owner`` and ``owner_open_activities``), the responsible is
told at once and a default follow-up to-do is planned ``default_followup_hours`` (24)
later, moved to the next working moment when that falls outside working time. Tasks bound to the deal count as
activities on a real portal (Bitrix24 lists them among the deal's activities). Won and lost
deals need no next step.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from app.rules import actions as A
from app.rules.changes import normalize
from app.rules.model import RESPONSIBLE_FIELD, STAGE_FIELD, Rule, RuleContext, on_field_changed
from app.sync.fetch import OWNER_OPEN_ACTIVITIES
from app.timers.calendars import work_calendar

DEAL_TYPE = "2"
TODO_TITLE = "Следующий шаг по сделке «{title}»"
NO_STEP_TEXT = (
    "Сделка «{title}» осталась без следующего шага: запланировано дело «Следующий шаг» — "
    "уточните его или запланируйте своё."
)


def _open_b2b_deal(ctx: RuleContext) -> dict | None:
    owner = ctx.related.get("owner")
    if not isinstance(owner, dict) or not owner.get("id"):
        return None
    deal = normalize("deal", owner, ctx.schema)
    stage = str(deal.get(STAGE_FIELD) or "")
    if not stage.startswith("b2b.") or stage.endswith((".won", ".lost")):
        return None
    return deal


def next_step(ctx: RuleContext) -> list[A.Action]:
    activity = ctx.record or {}
    if str(activity.get("COMPLETED")) != "Y" or str(activity.get("OWNER_TYPE_ID")) != DEAL_TYPE:
        return []
    deal = _open_b2b_deal(ctx)
    if deal is None:
        return []
    others = [
        a
        for a in ctx.related.get(OWNER_OPEN_ACTIVITIES) or []
        if str(a.get("ID")) != str(activity.get("ID"))
    ]
    if others:
        return []
    return follow_up(deal, int(deal["id"]), ctx.settings, ctx.now)


def follow_up(
    deal: Mapping[str, Any], deal_id: int, settings: Mapping[str, Any], now: datetime
) -> list[A.Action]:
    """Tell the deal's responsible and plan the default follow-up to-do ([] without a
    responsible). Shared with the ``next_step_guard`` robot."""
    who = deal.get(RESPONSIBLE_FIELD)
    if not who:
        return []
    title = deal.get("title") or f"#{deal_id}"
    hours = timedelta(hours=float(settings.get("default_followup_hours") or 24))
    # clock hours (24 = "tomorrow"), moved into working time when they end at night/weekend
    due = work_calendar(settings).next_working_moment(now + hours)
    template = str(settings.get("no_next_step_text") or "").strip() or NO_STEP_TEXT
    text = template.replace("{title}", str(title))
    return [
        A.Notify((int(who),), text, key="told"),
        A.CreateTodo(
            ("deal", deal_id),
            TODO_TITLE.format(title=title),
            due,
            responsible_id=int(who),
            description="Связаться с клиентом и договориться о следующем шаге.",
            key="followup",
        ),
    ]


RULES = [
    Rule(
        "next_step_guard",
        "activity",
        on_field_changed("COMPLETED"),
        next_step,
        needs=("owner", OWNER_OPEN_ACTIVITIES),
    )
]
