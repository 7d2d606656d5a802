"""B2B repeat sales (spec §4 rule 5): after a sale the client goes on to the next order.

* A deal won — «Первая поставка» in sales or «Отгружено» in repeat sales — opens the
  client's next deal in the repeat-sales pipeline («Дозаказ запланирован», same company,
  contact and responsible) with a reorder to-do due after the client's reorder interval:
  the company's «Интервал дозаказа, дней» when set, else ``reorder_days_by_business`` for
  its «Тип бизнеса», else 30 days (moved into working time). The won deal keeps its win,
  so sales statistics stay true; the repeat pipeline holds the client's future.
* A deal lost («Клиент потерян») gets a to-do for its responsible: find out why.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from app.playbooks.b2b import BUSINESS_TYPES
from app.playbooks.b2b import rules_stage_gate as stage_gate
from app.rules import actions as A
from app.rules.changes import normalize
from app.rules.model import RESPONSIBLE_FIELD, Rule, RuleContext, on_stage_entered
from app.timers.calendars import work_calendar

SOLD = ("b2b.sales.won", "b2b.repeat.won")
LOST = ("b2b.sales.lost", "b2b.repeat.lost")
PLANNED = "b2b.repeat.planned"
REPEAT_PIPELINE = "b2b.repeat"
REORDER_DAYS, BUSINESS = "UF_CRM_B2B_REORDER_DAYS", "UF_CRM_B2B_BUSINESS"
DEFAULT_DAYS = 30


def _positive(value: Any) -> int | None:
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def reorder_days(settings: Mapping[str, Any], company: Mapping[str, Any], schema: Any) -> int:
    """The client's reorder interval in days (see the module docstring for the order)."""
    own = _positive(company.get(REORDER_DAYS))
    if own:
        return own
    business = company.get(BUSINESS)
    table = settings.get("reorder_days_by_business") or {}
    for option in BUSINESS_TYPES:
        try:
            matches = str(schema.enum_id(BUSINESS, option.code, entity="company")) == str(business)
        except KeyError:
            continue
        if matches and isinstance(table, dict) and _positive(table.get(option.code)):
            return _positive(table[option.code])
    return DEFAULT_DAYS


def after_sale(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    who = record.get(RESPONSIBLE_FIELD)
    if not who or stage_gate.blocked(ctx):
        return []  # a win the stage gate sends back is no sale
    raw_company = ctx.related.get("company")
    company = normalize("company", raw_company, ctx.schema) if raw_company else {}
    days = reorder_days(ctx.settings, company, ctx.schema)
    due = work_calendar(ctx.settings).next_working_moment(ctx.now + timedelta(days=days))
    name = company.get("title") or record.get("title") or f"#{ctx.change.record_id}"
    fields: dict[str, Any] = {
        "title": f"Дозаказ: {name}",
        "categoryId": ctx.schema.category(REPEAT_PIPELINE),
        "stageId": PLANNED,
        RESPONSIBLE_FIELD: int(who),
    }
    for link in ("companyId", "contactId"):
        if record.get(link):
            fields[link] = record[link]
    return [
        A.CreateRecord("deal", fields, ref="repeat", key="repeat_deal"),
        A.CreateTodo(
            ("deal", A.Ref("repeat")),
            f"Дозаказ: связаться с клиентом «{name}»",
            due,
            responsible_id=int(who),
            description=f"Прошло {days} дн. с поставки — пора предложить дозаказ.",
            key="reorder_todo",
        ),
    ]


def after_loss(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    who = record.get(RESPONSIBLE_FIELD)
    if not who:
        return []
    hours = timedelta(hours=float(ctx.settings.get("default_followup_hours") or 24))
    due = work_calendar(ctx.settings).next_working_moment(ctx.now + hours)
    rid = ctx.change.record_id
    return [
        A.CreateTodo(
            ("deal", rid),
            f"Выяснить причину ухода клиента: {record.get('title') or rid}",
            due,
            responsible_id=int(who),
            description="Позвонить клиенту, узнать причину и записать её в сделку.",
            key="why_lost",
        )
    ]


RULES = [
    Rule("repeat_after_sale", "deal", on_stage_entered(*SOLD), after_sale, needs=("company",)),
    Rule("lost_find_out_why", "deal", on_stage_entered(*LOST), after_loss),
]
