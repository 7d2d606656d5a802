"""B2B auto-tasks with checklists (seed 003 §3.3 and «для торговых представителей»).

Every stage of the three pipelines gives the deal's responsible — the manager in sales and
repeat sales, the field rep in cold sales — a task saying what to do there, with a deadline
and a checklist (the generic work plan, ``app.rules.work_plan``, the kitchens machinery):

* moving into a stage forward creates its step's task (a new deal: in the first stage) (:data:`STAGE_STEPS`); an open task of
  that step already on the deal is not doubled;
* closing a task whose step names a ``then`` creates the next step's task (e.g. the proposal
  sent → the follow-up call), once per deal;
* the payment-control task on «Счёт выставлен» is due on «Оплатить до»; when that date
  changes, the open task moves to it instead of a second one appearing.

Titles, days, checklists and the chain are data (:data:`PLAN`); the ``stage_tasks`` and
``stage_checklists`` settings override them per step. Nothing is created while the stage
gate holds the deal back (``rules_stage_gate.blocked``) or on a move backwards.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from app.playbooks.b2b.rules_stage_gate import PAY_DUE, blocked, forward
from app.rules import actions as A
from app.rules.model import (
    RESPONSIBLE_FIELD,
    STAGE_FIELD,
    TASK_ENTITY,
    Rule,
    RuleContext,
    on_field_changed,
    on_stage_entered,
    on_task_completed,
)
from app.rules.work_plan import Step, WorkPlan, move_task, when
from app.sync.tasks import BOUND, OPEN_TASKS

PLAN = WorkPlan(
    "b2b",
    "deal",
    {
        "new": Step("Связаться с новым клиентом", 1,
                    ("Позвонить клиенту", "Найти лицо, принимающее решения",
                     "Привязать компанию к сделке")),
        "needs": Step("Выявить потребности клиента", 2,
                      ("Целевая аудитория клиента", "География работы", "Объёмы закупки",
                       "Тип бизнеса — записать всё в карточку компании")),
        "offer": Step("Подготовить и отправить КП", 1,
                      ("Подобрать ассортимент", "Рассчитать цены и отсрочку",
                       "Отправить КП клиенту"), then="offer_followup"),
        "offer_followup": Step("Перезвонить клиенту по КП", 2,
                               ("Узнать впечатления от КП", "Ответить на вопросы",
                                "Договориться о счёте")),
        "invoice": Step("Проконтролировать оплату счёта", 3,
                        ("Выставить счёт", "Проверить поступление оплаты",
                         "Записать сумму в поле «Оплачено»")),
        "shipment": Step("Организовать отгрузку", 1,
                         ("Согласовать дату и адрес доставки", "Передать заказ на склад",
                          "Подтвердить получение клиентом")),
        "repeat_contact": Step("Согласовать дозаказ", 1,
                               ("Уточнить остатки у клиента", "Предложить новинки",
                                "Согласовать объём дозаказа")),
        "cold_visit": Step("Визит в новую точку", 2,
                           ("Найти лицо, принимающее решения", "Договориться о встрече")),
        "cold_meeting": Step("Встреча и передача образца", 1,
                             ("Провести встречу", "Передать образец",
                              "Сфотографировать образец и прикрепить фото к сделке"),
                             then="cold_followup"),
        "cold_followup": Step("Перезвонить после образца", 3,
                              ("Узнать отзыв об образце", "Предложить первый заказ")),
        "cold_order": Step("Оформить первый заказ", 1,
                           ("Согласовать ассортимент и объём", "Заполнить карточку компании",
                            "Передать заказ менеджеру")),
    },
)  # fmt: skip
STAGE_STEPS = {
    "b2b.sales.new": "new",
    "b2b.sales.needs": "needs",
    "b2b.sales.offer": "offer",
    "b2b.sales.invoice": "invoice",
    "b2b.sales.shipment": "shipment",
    "b2b.repeat.contacted": "repeat_contact",
    "b2b.repeat.invoice": "invoice",
    "b2b.cold.new": "cold_visit",
    "b2b.cold.meeting": "cold_meeting",
    "b2b.cold.order": "cold_order",
}
DATED = {"invoice": PAY_DUE.field}  # step → the date field its deadline follows


def _deadline(ctx: RuleContext, key: str, record: Any) -> Any:
    field = DATED.get(key)
    moment = when((record or {}).get(field), ctx.settings) if field else None
    return moment or PLAN.due(ctx.settings, key, ctx.now)


def on_stage(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    who = record.get(RESPONSIBLE_FIELD)
    key = STAGE_STEPS.get(str(record.get(STAGE_FIELD) or ""))
    if not who or key is None or not forward(ctx) or blocked(ctx):
        return []
    if PLAN.open_task(ctx.related.get(OPEN_TASKS), key) is not None:
        return []  # back on a stage whose task is still open: not doubled
    rid = ctx.change.record_id
    return [PLAN.task(ctx.settings, key, rid, record, who, _deadline(ctx, key, record))]


def on_created_first(ctx: RuleContext) -> list[A.Action]:
    """A new deal in a pipeline's first stage gets that stage's task (a deal created in a
    later stage — an import, a conversion — gets its task on its next move)."""
    return on_stage(ctx) if ctx.change.before is None else []


def on_date(ctx: RuleContext) -> list[A.Action]:
    """«Оплатить до» changed: the open payment task moves to the new date."""
    record = ctx.record or {}
    moment = when(record.get(PAY_DUE.field), ctx.settings)
    found = PLAN.open_task(ctx.related.get(OPEN_TASKS), "invoice")
    if moment is None or found is None:
        return []
    return move_task(found, ctx.settings, moment, record.get(RESPONSIBLE_FIELD))


def after(key: str):
    """The rule body for a closed task of step ``key``: the step it names as ``then``."""

    def decide(ctx: RuleContext) -> list[A.Action]:
        step = PLAN.step(ctx.settings, key)
        bound = ctx.related.get(BOUND)
        if not step.then or not bound or bound.get("entity") != "deal":
            return []
        deal = dict(bound.get("record") or {})
        stage = str(deal.get(STAGE_FIELD) or "")
        if not deal.get(RESPONSIBLE_FIELD) or stage.endswith((".won", ".lost")):
            return []
        deal_id = int(bound["id"])
        due = PLAN.due(ctx.settings, step.then, ctx.now)
        once = PLAN.once(step.then, deal_id)
        return [
            PLAN.task(
                ctx.settings, step.then, deal_id, deal, deal[RESPONSIBLE_FIELD], due, once=once
            )
        ]

    return decide


FIRST = ("b2b.sales.new", "b2b.cold.new")  # a deal is created here; elsewhere it is moved

RULES = [
    Rule("stage_task", "deal", replace(on_stage_entered(*STAGE_STEPS), on_new_records=False),
         on_stage, needs=(OPEN_TASKS, "company")),
    Rule("stage_task_new", "deal", on_stage_entered(*FIRST), on_created_first,
         needs=(OPEN_TASKS, "company")),
    Rule("stage_task_moved", "deal", on_field_changed(PAY_DUE.field), on_date, needs=(OPEN_TASKS,)),
    *(
        Rule(f"stage_task_after_{key}", TASK_ENTITY, on_task_completed(PLAN.tag(key)), after(key),
             needs=(BOUND,))
        for key in PLAN.steps
    ),
]  # fmt: skip
