"""Texts employees receive are settings with placeholders (issue #24 "every text a client or
an employee receives is a setting"): a portal's own wording reaches the message."""

from __future__ import annotations

from datetime import UTC, datetime

from app.playbooks.b2b.rules_next_step import follow_up
from app.playbooks.eshop import rules_stage_limits as eshop
from app.playbooks.furniture import rules_handoff, rules_refusal
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import FIELD_CHANGED, STAGE_ENTERED, Change, RuleContext
from tests.app._timer_ctx import ctx as timer_ctx
from tests.app._timer_ctx import fired

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def ctx(playbook, record, settings, kind=STAGE_ENTERED, **change):
    ch = Change("m", "deal", 7, kind, "c", after=record, **change)
    merged = {**defaults(playbook), **settings}
    return RuleContext(ch, record, {}, merged, None, NOW)


def test_furniture_refusal_and_no_admin_texts():
    record = {"stageId": "furniture.deal.lost", "assignedById": 4, "title": "Шкаф"}
    c = ctx("furniture", record, {"refusal_required_text": "{record} «{title}»: где причина?"},
            stage_from="furniture.deal.delivery", stage_to="furniture.deal.lost")  # fmt: skip
    _move, comment, note = rules_refusal.require_reason(c)
    assert comment.text == note.message == "Сделка «Шкаф»: где причина?"
    lead = {"stageId": "furniture.lead.new", "assignedById": 4, "title": "Диван",
            "UF_CRM_FR_CITY": "Тверь", "UF_CRM_FR_VISIT_DATE": "2026-11-25"}  # fmt: skip
    c = ctx("furniture", lead, {"no_admin_text": "Нет магазина в «{city}»"}, kind=FIELD_CHANGED,
            fields_changed=frozenset({"UF_CRM_FR_VISIT_DATE"}))  # fmt: skip
    c = RuleContext(Change("m", "lead", 7, FIELD_CHANGED, "c", after=lead,
                           fields_changed=frozenset({"UF_CRM_FR_VISIT_DATE"})),
                    lead, {}, c.settings, None, NOW)  # fmt: skip
    (note,) = [a for a in rules_handoff.hand_off(c) if isinstance(a, A.Notify)]
    assert note.message == "Нет магазина в «Тверь»"


def test_eshop_stage_limit_and_b2b_next_step_texts():
    settings = {"stage_limits_hours": {"eshop.order.confirmed": 24},
                "stage_limit_text": "{title}: {stage} > {hours} ч"}  # fmt: skip
    order = {"stageId": "eshop.order.confirmed", "title": "Заказ 15"}
    start = [a for a in eshop.start_limit(timer_ctx(STAGE_ENTERED, order, settings, NOW,
                                                    entity="deal"))
             if isinstance(a, A.StartTimer)][0]  # fmt: skip
    (note,) = eshop.over_limit(fired(start, order, settings, start.due_at, {"head_of_sales": (2,)}))
    # the staff chat message (issue #13); with no chat set it falls back to the head of sales
    assert isinstance(note, A.ChatMessage) and note.fallback_users == (2,)
    assert note.text == "Заказ 15: Подтверждён > 24 ч"
    deal = {"assignedById": 4, "title": "ООО Вектор"}
    told, _todo = follow_up(
        deal, 7, {**defaults("b2b"), "no_next_step_text": "«{title}»: шаг?"}, NOW
    )
    assert told.message == "«ООО Вектор»: шаг?"


def test_b2b_reorder_and_why_lost_todos():
    from app.playbooks.b2b import rules_repeat

    lost = {"stageId": "b2b.repeat.lost", "assignedById": 4, "title": "ООО Вектор"}
    c = ctx("b2b", lost, {"why_lost_todo_text": "Почему ушёл {name}?"})
    (todo,) = rules_repeat.after_loss(c)
    assert todo.title == "Почему ушёл ООО Вектор?"
    assert rules_repeat._text({}, "x", rules_repeat.REORDER_TODO, name="ООО Квартал") == (
        "Дозаказ: связаться с клиентом «ООО Квартал»"
    )


def test_kitchens_control_and_work_plan_texts_are_settings():
    """#24: the error control's message and the work plan's task titles and checklists are
    kitchens settings (``control_returned_text``, ``stage_tasks``) whose defaults are the
    texts the code used to hold."""
    from app.playbooks.kitchens import rules_control, rules_workplan

    base = defaults("kitchens")
    assert base["control_returned_text"] == "Лид «{title}» возвращён на прежнюю стадию: "
    assert base["stage_tasks"]["final"]["title"] == "Финальное КП после замера"
    lead = {"title": "Кухня Анны", "assignedById": 4, "stageId": "kitchens.lead.assigned"}
    default_task = rules_workplan.lead_task(base, "proposal", 7, lead, 4, NOW)
    assert default_task.title == "Подготовить и отправить каталог и КП: Кухня Анны"
    assert default_task.checklist[0] == "Подобрать каталог по ответам клиента"

    own = {
        **base,
        "stage_tasks": {"proposal": {"title": "Каталог клиенту", "checklist": ["Выслать"]}},
        "control_returned_text": "«{title}» назад, {who}: ",
    }
    custom = rules_workplan.lead_task(own, "proposal", 7, lead, 4, NOW)
    assert (custom.title, custom.checklist) == ("Каталог клиенту: Кухня Анны", ("Выслать",))
    # a step the portal did not reword keeps today's text
    assert rules_workplan.lead_task(own, "final", 7, lead, 4, NOW).title.startswith("Финальное КП")

    entered = {**lead, "stageId": "kitchens.lead.qualified"}
    ch = Change("m", "lead", 7, STAGE_ENTERED, "c", after=entered,
                stage_from="kitchens.lead.assigned", stage_to="kitchens.lead.qualified")  # fmt: skip
    back = rules_control.control(RuleContext(ch, entered, {}, own, None, NOW))
    (comment,) = [a for a in back if isinstance(a, A.TimelineComment)]
    assert comment.text.startswith("«Кухня Анны» назад, {who}: ") and "Бюджет" in comment.text
    plain = rules_control.control(RuleContext(ch, entered, {}, base, None, NOW))
    (comment,) = [a for a in plain if isinstance(a, A.TimelineComment)]
    assert comment.text.startswith("Лид «Кухня Анны» возвращён на прежнюю стадию: ")
