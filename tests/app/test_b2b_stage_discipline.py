"""B2B stage discipline, pure: mandatory fields per stage (the generic stage gate) and the
auto-tasks with checklists (the generic work plan), for managers and field reps."""

from __future__ import annotations

from datetime import UTC, datetime

from app.playbooks.b2b import rules_repeat, rules_stage_gate, rules_stage_tasks
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import FIELD_CHANGED, STAGE_ENTERED, TASK_COMPLETED, Change, RuleContext
from app.sync.tasks import BOUND, OPEN_TASKS
from tests.app.test_b2b_rules import Schema

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 12:00 Moscow
REP = 4
COMPANY = {"id": 5, "title": "Сеть «Квартал»", "UF_CRM_B2B_AUDIENCE": "семьи",
           "UF_CRM_B2B_GEO": "Казань", "UF_CRM_B2B_VOLUME": 120.0, "UF_CRM_B2B_BUSINESS": 702}  # fmt: skip


def ctx(record, related=None, kind=STAGE_ENTERED, settings=None, entity="deal", **change):
    before = {"stageId": change["stage_from"]} if change.get("stage_from") else None
    ch = Change("m", entity, 7, kind, "c", before=before, after=record, **change)
    return RuleContext(ch, record, related or {}, {**defaults("b2b"), **(settings or {})},
                       Schema(), NOW)  # fmt: skip


def deal(stage, **extra):
    return {"id": 7, "stageId": stage, "assignedById": REP, "title": "Квартал", "companyId": 5,
            "opportunity": 90000, **extra}  # fmt: skip


def control(record, came, company=COMPANY, settings=None):
    c = ctx(record, {"company": company}, stage_from=came, stage_to=record["stageId"],
            settings=settings)  # fmt: skip
    rule = next(r for r in rules_stage_gate.RULES if r.trigger.matches(c.change))
    return rule.decide(c)


def test_leaving_needs_without_the_four_qualification_answers_goes_back_naming_each():
    empty = {"id": 5, "title": "Квартал", "UF_CRM_B2B_GEO": "Казань"}
    move, comment, note = control(deal("b2b.sales.offer"), "b2b.sales.needs", company=empty)
    assert isinstance(move, A.MoveStage) and move.stage == "b2b.sales.needs"
    for label in ("Целевая аудитория", "Объём заказа", "Тип бизнеса"):
        assert label in comment.text
    assert "География" not in comment.text  # filled: not named
    assert note.user_ids == (REP,) and note.message == comment.text
    assert control(deal("b2b.sales.offer"), "b2b.sales.needs") == []  # all four: it stays


def test_each_stage_adds_its_own_needs_and_side_stages_need_the_whole_way():
    no_company = deal("b2b.sales.needs", companyId=0)
    assert "Компания клиента" in control(no_company, "b2b.sales.new")[1].text
    no_sum = deal("b2b.sales.invoice", opportunity=0)
    assert "Сумма сделки" in control(no_sum, "b2b.sales.offer")[1].text
    won = control(deal("b2b.sales.won"), "b2b.sales.shipment")
    assert "Оплатить до" in won[1].text  # invoice's list is part of the way to a win
    ok = deal("b2b.sales.won", UF_CRM_B2B_PAY_DUE="2026-12-10")
    assert control(ok, "b2b.sales.shipment") == []
    # cold sales: the rep's first order needs the qualification answers too
    assert (
        "Тип бизнеса" in control(deal("b2b.cold.won"), "b2b.cold.order", company={"id": 5})[1].text
    )


def test_the_setting_replaces_a_stages_list():
    settings = {"stage_required_fields": {"b2b.sales.offer": [["comments", "Комментарий"]]}}
    got = control(deal("b2b.sales.invoice", opportunity=0), "b2b.sales.offer", settings=settings)
    assert "Комментарий" in got[1].text and "Сумма сделки" not in got[1].text


def test_a_stage_gives_the_responsible_its_task_with_checklist_once():
    c = ctx(deal("b2b.sales.offer"), {"company": COMPANY, OPEN_TASKS: []},
            stage_from="b2b.sales.needs", stage_to="b2b.sales.offer")  # fmt: skip
    (task,) = rules_stage_tasks.on_stage(c)
    assert task.title == "Подготовить и отправить КП: Квартал" and task.responsible_id == REP
    assert task.checklist[-1] == "Отправить КП клиенту" and task.tag == "b2b.offer"
    assert task.deadline == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 1 working day
    assert task.bind_to == ("deal", 7)
    already = {"company": COMPANY, OPEN_TASKS: [{"id": 3, "tag": "b2b.offer", "deadline": None}]}
    c2 = ctx(deal("b2b.sales.offer"), already, stage_from="b2b.sales.needs",
             stage_to="b2b.sales.offer")  # fmt: skip
    assert rules_stage_tasks.on_stage(c2) == []  # not doubled
    back = ctx(deal("b2b.sales.needs"), {"company": COMPANY, OPEN_TASKS: []},
               stage_from="b2b.sales.offer", stage_to="b2b.sales.needs")  # fmt: skip
    assert rules_stage_tasks.on_stage(back) == []  # backwards: no stage work
    gaps = ctx(deal("b2b.sales.offer"), {"company": {"id": 5}, OPEN_TASKS: []},
               stage_from="b2b.sales.needs", stage_to="b2b.sales.offer")  # fmt: skip
    assert rules_stage_tasks.on_stage(gaps) == []  # held back by the gate: nothing else


def test_a_new_deal_gets_the_first_stages_task_and_a_deal_created_later_waits_for_a_move():
    new = ctx(deal("b2b.cold.new"), {"company": COMPANY, OPEN_TASKS: []}, stage_to="b2b.cold.new")
    (task,) = rules_stage_tasks.on_created_first(new)
    assert task.title.startswith("Визит в новую точку") and task.responsible_id == REP
    rule = next(r for r in rules_stage_tasks.RULES if r.name == "stage_task")
    created_later = ctx(deal("b2b.sales.offer"), stage_to="b2b.sales.offer")
    assert not rule.trigger.matches(created_later.change)
    gate = next(r for r in rules_stage_gate.RULES if r.name == "stage_gate_sales")
    assert not gate.trigger.matches(created_later.change)  # created, not moved: not gated


def test_field_reps_get_their_cold_sales_tasks_and_settings_override_the_checklist():
    settings = {"stage_checklists": {"cold_meeting": ["Показать каталог", "Оставить образец"]}}
    c = ctx(deal("b2b.cold.meeting"), {"company": COMPANY, OPEN_TASKS: []}, settings=settings,
            stage_from="b2b.cold.new", stage_to="b2b.cold.meeting")  # fmt: skip
    (task,) = rules_stage_tasks.on_stage(c)
    assert task.title.startswith("Встреча и передача образца")
    assert task.checklist == ("Показать каталог", "Оставить образец")


def test_closing_a_task_creates_the_next_step_once():
    bound = {"entity": "deal", "id": 7, "record": deal("b2b.sales.offer")}
    c = ctx({"id": 50, "status": "5"}, {BOUND: bound}, kind=TASK_COMPLETED, entity="task",
            detail={"name": "b2b.offer"})  # fmt: skip
    (task,) = rules_stage_tasks.after("offer")(c)
    assert task.title.startswith("Перезвонить клиенту по КП") and task.tag == "b2b.offer_followup"
    assert task.once == "b2b.plan:offer_followup:deal:7"
    assert rules_stage_tasks.after("offer_followup")(c) == []  # the chain ends there
    custom = {"stage_tasks": {"offer_followup": {"then": "invoice"}}}
    c2 = ctx({"id": 51}, {BOUND: bound}, kind=TASK_COMPLETED, entity="task", settings=custom)
    assert rules_stage_tasks.after("offer_followup")(c2)[0].tag == "b2b.invoice"


def test_the_payment_task_follows_the_due_date_and_moves_when_it_changes():
    record = deal("b2b.sales.invoice", UF_CRM_B2B_PAY_DUE="2026-12-10")
    c = ctx(record, {"company": COMPANY, OPEN_TASKS: []}, stage_from="b2b.sales.offer",
            stage_to="b2b.sales.invoice")  # fmt: skip
    (task,) = rules_stage_tasks.on_stage(c)
    assert task.deadline == datetime(2026, 12, 10, 6, 0, tzinfo=UTC)  # 09:00 Moscow
    open_ = [{"id": 31, "tag": "b2b.invoice", "deadline": "2026-12-10T09:00:00+03:00",
              "responsibleId": str(REP)}]  # fmt: skip
    moved = dict(record, UF_CRM_B2B_PAY_DUE="2026-12-20")
    c2 = ctx(moved, {OPEN_TASKS: open_}, kind=FIELD_CHANGED,
             fields_changed=frozenset({"UF_CRM_B2B_PAY_DUE"}))  # fmt: skip
    (update,) = rules_stage_tasks.on_date(c2)
    assert isinstance(update, A.UpdateTask) and update.task_id == 31
    assert update.deadline == datetime(2026, 12, 20, 6, 0, tzinfo=UTC)
    same = ctx(record, {OPEN_TASKS: open_}, kind=FIELD_CHANGED,
               fields_changed=frozenset({"UF_CRM_B2B_PAY_DUE"}))  # fmt: skip
    assert rules_stage_tasks.on_date(same) == []  # our own echo: nothing written again


def test_a_win_held_back_by_the_gate_opens_no_repeat_deal():
    c = ctx(deal("b2b.sales.won"), {"company": COMPANY}, stage_from="b2b.sales.shipment",
            stage_to="b2b.sales.won")  # fmt: skip
    assert rules_repeat.after_sale(c) == []  # «Оплатить до» missing: the win goes back
