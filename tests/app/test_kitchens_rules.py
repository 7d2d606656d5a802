"""Kitchens work plan, assignment, pause and agreed conversion as pure rules."""

from __future__ import annotations

from datetime import UTC, datetime

from app.playbooks.kitchens import (
    rules_agreed,
    rules_assignment,
    rules_measurement,
    rules_workplan,
)
from app.playbooks.kitchens.rules_control import (
    AGREED,
    ASSIGNED,
    MEASUREMENT,
    NEXT_CONTACT,
    PROPOSAL,
    QUALIFIED,
    UNPROCESSED,
)
from app.rules import actions as A
from app.rules.model import CREATED, FIELD_CHANGED, TIMER_FIRED, Change, RuleContext
from tests.app.test_kitchens_control import full_for
from tests.app.test_kitchens_support import MANAGER, MEASURER, NOW, SCHEMA, ctx, of, opt

VISIT = "2026-11-26T10:00:00+03:00"  # Thursday


def test_qualified_creates_the_proposal_task_due_next_working_day():
    out = rules_workplan.on_qualified(
        ctx(full_for(QUALIFIED), stage_from=ASSIGNED, stage_to=QUALIFIED)
    )
    task = of(out, A.CreateTask)[0]
    assert task.title.startswith("Подготовить и отправить каталог и КП")
    assert task.responsible_id == MANAGER and task.bind_to == ("lead", 7)
    assert task.deadline == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Mon 12:00 MSK + 1 day
    assert "Отправить каталог и КП" in task.checklist


def test_followup_waits_the_configured_working_days_and_uses_custom_checklist():
    settings = {"followup_working_days": 3, "stage_checklists": {"followup": ["Позвонить"]}}
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    c = ctx(full_for(PROPOSAL), stage_from=QUALIFIED, stage_to=PROPOSAL, settings=settings)
    c = RuleContext(c.change, c.record, {}, c.settings, SCHEMA, friday)
    task = of(rules_workplan.on_proposal(c), A.CreateTask)[0]
    assert task.deadline == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # Fri + 3 working days = Wed
    assert task.checklist == ("Позвонить",)


def test_measurement_starts_the_confirmation_timer_24_hours_before():
    record = full_for(MEASUREMENT) | {"UF_CRM_KT_MEASURE_AT": VISIT}
    out = rules_measurement.schedule_confirmation(
        ctx(record, stage_from=PROPOSAL, stage_to=MEASUREMENT)
    )
    timer = of(out, A.StartTimer)[0]
    assert timer.kind == rules_workplan.CONFIRM_TIMER
    assert timer.due_at == datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    assert timer.payload["visit"] == "2026-11-26T10:00:00+03:00"


def fired(record, visit):
    detail = {"name": rules_workplan.CONFIRM_TIMER, "payload": {"visit": visit}}
    ch = Change("m", "lead", 7, TIMER_FIRED, "timer:1", detail=detail)
    return RuleContext(ch, record, {}, ctx(record).settings, SCHEMA, NOW)


def test_confirmation_timer_gives_the_manager_a_task_unless_rescheduled():
    record = full_for(MEASUREMENT) | {"UF_CRM_KT_MEASURE_AT": VISIT}
    task = of(rules_measurement.confirm_task(fired(record, VISIT)), A.CreateTask)[0]
    assert task.title.startswith("Подтвердить замер") and task.responsible_id == MANAGER
    moved = record | {"UF_CRM_KT_MEASURE_AT": "2026-11-27T10:00:00+03:00"}
    assert rules_measurement.confirm_task(fired(moved, VISIT)) == []


def test_reschedule_restarts_the_cycle_and_drops_the_old_confirmation():
    record = full_for(MEASUREMENT) | {"UF_CRM_KT_MEASURE_AT": "2026-11-27T10:00:00+03:00"}
    record["UF_CRM_KT_MEASURE_OK"] = "Y"
    c = ctx(record, kind=FIELD_CHANGED, fields_changed=frozenset({"UF_CRM_KT_MEASURE_AT"}))
    out = rules_measurement.schedule_confirmation(c)
    assert of(out, A.StartTimer)[0].payload["visit"] == "2026-11-27T10:00:00+03:00"
    assert of(out, A.UpdateFields)[0].fields == {"UF_CRM_KT_MEASURE_OK": "N"}


def test_confirmed_measurement_texts_the_client_and_tasks_the_measurer():
    record = full_for(MEASUREMENT) | {"UF_CRM_KT_MEASURE_AT": VISIT, "UF_CRM_KT_MEASURE_OK": "Y"}
    c = ctx(record, kind=FIELD_CHANGED, fields_changed=frozenset({"UF_CRM_KT_MEASURE_OK"}))
    out = rules_measurement.on_confirmed(c)
    sms = of(out, A.MessageClient)[0]
    assert sms.channel == "sms" and "26.11.2026 в 10:00" in sms.text
    # the final proposal waits for the measurer to close this task (rules_tasks)
    (measurer,) = of(out, A.CreateTask)
    assert measurer.tag == "kitchens.measurer" and measurer.bind_to == ("lead", 7)
    assert measurer.responsible_id == MEASURER
    assert measurer.checklist[0] == "Позвонить клиенту за час до приезда"
    assert "Составить полную смету" in measurer.checklist
    assert measurer.deadline == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # visit + 3 h
    unticked = record | {"UF_CRM_KT_MEASURE_OK": "N"}
    assert rules_measurement.on_confirmed(ctx(unticked, kind=FIELD_CHANGED)) == []


def test_the_measurer_is_reminded_an_hour_before_to_call_with_the_clients_wishes():
    """Seed 002: «замерщик обязан за час до прибытия проинформировать клиента»; the booking
    keeps «особые пожелания заказчика»."""
    record = full_for(MEASUREMENT) | {
        "UF_CRM_KT_MEASURE_AT": VISIT,
        "UF_CRM_KT_MEASURE_OK": "Y",
        "UF_CRM_KT_WISHES": "Домофон не работает, звонить заранее",
        "fm": [
            {"typeId": "PHONE", "value": "+79123456789"},
            {"typeId": "EMAIL", "value": "anna@example.ru"},
        ],
        "title": "Кухня Анны",
    }
    c = ctx(record, kind=FIELD_CHANGED, fields_changed=frozenset({"UF_CRM_KT_MEASURE_OK"}))
    (timer,) = of(rules_measurement.on_confirmed(c), A.StartTimer)
    assert timer.kind == rules_measurement.CALL_TIMER
    assert timer.due_at == datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 10:00 Moscow − 1 h
    detail = {"name": timer.kind, "payload": timer.payload}
    fired = Change("m", "lead", 7, TIMER_FIRED, "timer:1", detail=detail)
    at = RuleContext(fired, record, {}, c.settings, SCHEMA, timer.due_at)
    note, notice = rules_measurement.remind_measurer(at)
    assert note.user_ids == (MEASURER,)
    # the client hears it too: when and where the measurer arrives (issue #13)
    assert isinstance(notice, A.MessageClient) and notice.record == ("lead", 7)
    assert notice.channel == "sms" and "26.11.2026 в 10:00" in notice.text
    silent = RuleContext(
        fired, record, {}, {**c.settings, "measurer_arrival_text": ""}, SCHEMA, NOW
    )
    assert [type(a) for a in rules_measurement.remind_measurer(silent)] == [A.Notify]
    assert "+79123456789" in note.message and "Домофон не работает" in note.message
    assert "26.11.2026 в 10:00" in note.message and "«Кухня Анны»" in note.message
    # moved to another time since, or unconfirmed: this reminder keeps quiet
    moved = record | {"UF_CRM_KT_MEASURE_AT": "2026-11-27T10:00:00+03:00"}
    assert (
        rules_measurement.remind_measurer(RuleContext(fired, moved, {}, c.settings, SCHEMA, NOW))
        == []
    )
    undone = record | {"UF_CRM_KT_MEASURE_OK": "N"}
    assert (
        rules_measurement.remind_measurer(RuleContext(fired, undone, {}, c.settings, SCHEMA, NOW))
        == []
    )


def test_pause_tells_the_client_the_date_and_a_task_waits_for_it():
    record = full_for(NEXT_CONTACT) | {
        "UF_CRM_KT_NEXT_CONTACT": "2026-12-01",
        "UF_CRM_KT_MEASURE_AT": None,
    }
    out = rules_workplan.on_pause(ctx(record, stage_from=QUALIFIED, stage_to=NEXT_CONTACT))
    sms = of(out, A.MessageClient)[0].text
    assert "01.12.2026" in sms and "дату согласуем во время звонка" in sms
    assert of(out, A.CreateTask)[0].deadline == datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    # seed 002: «о планируемых датах следующего звонка и замера» — a booked visit is named
    booked = record | {"UF_CRM_KT_MEASURE_AT": "2026-12-03T15:30:00+03:00"}
    out = rules_workplan.on_pause(ctx(booked, stage_from=QUALIFIED, stage_to=NEXT_CONTACT))
    sms = of(out, A.MessageClient)[0].text
    assert "01.12.2026" in sms and "Замер: 03.12.2026 в 15:30" in sms


def created(record, settings=None):
    c = ctx(record, kind=CREATED, settings=settings)
    return RuleContext(
        Change("m", "lead", 7, CREATED, "c", after=record), record, {}, c.settings, SCHEMA, NOW
    )


def test_manual_lead_goes_to_its_creator_and_to_manager_assigned():
    record = {"stageId": UNPROCESSED, "createdBy": 12, "assignedById": 1, "sourceId": "SELF"}
    out = rules_assignment.to_creator(created(record))
    assert out == [
        A.UpdateFields("lead", 7, {"assignedById": 12}),
        A.MoveStage("lead", 7, ASSIGNED),
    ]


def test_form_leads_and_the_integration_user_are_left_to_the_sos_chain():
    form = {"stageId": UNPROCESSED, "createdBy": 12, "assignedById": 1, "sourceId": "WEBFORM"}
    assert rules_assignment.to_creator(created(form)) == []
    pool = {"stageId": UNPROCESSED, "createdBy": 1, "assignedById": 1, "sourceId": "SELF"}
    assert rules_assignment.to_creator(created(pool, {"sos_pool_user_ids": [1]})) == []


def test_agreed_creates_a_deal_with_every_filled_field_and_a_contact():
    record = full_for(AGREED) | {
        "fm": [
            {"typeId": "PHONE", "valueType": "WORK", "value": "+79123456789"},
            {"typeId": "EMAIL", "valueType": "WORK", "value": "ivan@example.ru"},
        ],
        "opportunity": 600000,
        "UF_CRM_KT_ABC": opt("UF_CRM_KT_ABC", "A"),
    }
    out = rules_agreed.convert(ctx(record, stage_from=MEASUREMENT, stage_to=AGREED))
    deal = next(a for a in of(out, A.CreateRecord) if a.entity == "deal")
    assert deal.fields["leadId"] == 7 and deal.fields["opportunity"] == 600000
    assert deal.fields["UF_CRM_KT_COUNTERTOP"] == "Кварц"
    assert deal.fields["UF_CRM_KT_MEASURER"] == MEASURER
    # list fields carry the option over to the deal's own ids
    assert deal.fields["UF_CRM_KT_KITCHEN_TYPE"] == opt("UF_CRM_KT_KITCHEN_TYPE", "corner", "deal")
    assert deal.fields["UF_CRM_KT_ABC"] == opt("UF_CRM_KT_ABC", "A", "deal")
    assert "UF_CRM_KT_LOST_REASON" not in deal.fields  # lead-only field
    contact = next(a for a in of(out, A.CreateRecord) if a.entity == "contact")
    assert contact.fields["name"] == "Иван" and contact.fields["lastName"] == "Петров"
    links = {(link.child[0], link.parent[0]) for link in of(out, A.LinkRecords)}
    assert links == {("deal", "contact"), ("lead", "contact")}


def test_agreed_lead_with_a_contact_reuses_it():
    record = full_for(AGREED) | {"contactId": 44}
    out = rules_agreed.convert(ctx(record, stage_from=MEASUREMENT, stage_to=AGREED))
    assert [a.entity for a in of(out, A.CreateRecord)] == ["deal"]
    assert of(out, A.LinkRecords)[0].parent == ("contact", 44)
