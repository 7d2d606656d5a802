"""B2B (spec §4 rule 5, seed 003): the client hears it is time to reorder.

A deal won («Первая поставка» / «Отгружено») starts a timer at the client's reorder interval
(the same interval as the manager's reorder to-do: ``rules_repeat.reorder_days``, moved into
working time). When it fires, the client gets a reminder (``MessageClient``, e-mail first;
the text is the ``reorder_reminder`` template of ``message_templates``, Russian by default,
filled when it is sent: ``{title}`` and any field of the deal). Sent through ``app.channels``:
the company's or contact's e-mail, else messenger or SMS.
"""

from __future__ import annotations

from datetime import timedelta

from app.playbooks.b2b.rules_repeat import SOLD, reorder_days
from app.rules import actions as A
from app.rules.changes import normalize
from app.rules.model import Rule, RuleContext, on_stage_entered, on_timer
from app.timers import handlers
from app.timers.calendars import work_calendar

KIND = "b2b.reorder_reminder"
SUBJECT = "Пора пополнить запасы"
TEXT = (
    "Здравствуйте! С последней поставки по сделке «{title}» прошло {days} дн. — "
    "возможно, пора сделать дозаказ. Ответьте на это письмо, и менеджер подготовит заказ."
)
handlers.register_kind(KIND)


def start_reminder(ctx: RuleContext) -> list[A.Action]:
    raw_company = ctx.related.get("company")
    company = normalize("company", raw_company, ctx.schema) if raw_company else {}
    days = reorder_days(ctx.settings, company, ctx.schema)
    due = work_calendar(ctx.settings).next_working_moment(ctx.now + timedelta(days=days))
    record = ("deal", ctx.change.record_id)
    return [A.StartTimer(KIND, due, record, {"days": days}, key="reorder_reminder")]


def remind(ctx: RuleContext) -> list[A.Action]:
    days = (ctx.change.detail.get("payload") or {}).get("days") or ""
    title = (ctx.record or {}).get("title") or f"#{ctx.change.record_id}"
    text = TEXT.replace("{days}", str(days)).replace("{title}", str(title))
    record = ("deal", ctx.change.record_id)
    return [
        A.MessageClient("email", record, SUBJECT, text, key="reminder", template="reorder_reminder")
    ]


RULES = [
    Rule(
        "reorder_reminder_start",
        "deal",
        on_stage_entered(*SOLD),
        start_reminder,
        needs=("company",),
    ),
    Rule("reorder_reminder_fire", "deal", on_timer(KIND), remind),
]
