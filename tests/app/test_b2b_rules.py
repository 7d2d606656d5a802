"""B2B rules, pure: the sample photo at «Встреча», no open deal without a next step."""

from __future__ import annotations

from datetime import UTC, datetime

from app.playbooks.b2b import rules_next_step, rules_repeat, rules_samples
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import FIELD_CHANGED, STAGE_ENTERED, Change, RuleContext
from app.sync.fetch import OWNER_OPEN_ACTIVITIES

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # Friday 18:00 Moscow: the day is over
REP = 4


class Schema:
    stages = {
        "C5:MEETING": "b2b.cold.meeting",
        "C3:OFFER": "b2b.sales.offer",
        "C3:WON": "b2b.sales.won",
    }

    def stage_code(self, entity, raw):
        return self.stages.get(raw, raw)

    def stage_codes(self, entity, raw):
        return [self.stages.get(raw, raw)]

    def stage_id(self, entity, code):
        return code

    def field_code(self, entity, raw):
        return raw

    def field_name(self, entity, code):
        return code

    def category(self, code):
        return {"b2b.repeat": 9}[code]

    def enum_id(self, field, code, entity=None):
        return {"retail": 701, "chain": 702, "distributor": 703, "horeca": 704}[code]


def ctx(record, related=None, entity="deal", kind=STAGE_ENTERED, **change):
    ch = Change("m", entity, 7, kind, "c", after=record, **change)
    return RuleContext(ch, record, related or {}, defaults("b2b"), Schema(), NOW)


# -- samples ---------------------------------------------------------------------------------


def cold(stage, **extra):
    return {"id": 7, "stageId": stage, "assignedById": REP, "title": "Магазин у дома", **extra}


def test_leaving_the_meeting_without_the_sample_photo_goes_back():
    c = ctx(cold("b2b.cold.sample"), stage_from="b2b.cold.meeting", stage_to="b2b.cold.sample")
    move, comment, note = rules_samples.sample_photo_required(c)
    assert isinstance(move, A.MoveStage) and move.stage == "b2b.cold.meeting"
    assert "Фото образца" in comment.text and note.user_ids == (REP,)


def test_with_a_photo_or_moving_elsewhere_nothing_happens():
    photo = {"id": 12, "showUrl": "/file/12"}
    with_photo = cold("b2b.cold.sample", UF_CRM_B2B_SAMPLE_PHOTO=photo)
    c = ctx(with_photo, stage_from="b2b.cold.meeting", stage_to="b2b.cold.sample")
    assert rules_samples.sample_photo_required(c) == []
    # from «Новая точка» straight on, or from meeting to «Отказ»: not this rule's business
    other = ctx(cold("b2b.cold.sample"), stage_from="b2b.cold.new", stage_to="b2b.cold.sample")
    assert rules_samples.sample_photo_required(other) == []
    lost = ctx(cold("b2b.cold.lost"), stage_from="b2b.cold.meeting", stage_to="b2b.cold.lost")
    assert rules_samples.sample_photo_required(lost) == []


# -- next step -------------------------------------------------------------------------------


def completed(owner_stage="C3:OFFER", others=(), owner_type="2", who=REP):
    activity = {"ID": "50", "COMPLETED": "Y", "OWNER_TYPE_ID": owner_type, "OWNER_ID": "7"}
    owner = {"id": 7, "stageId": owner_stage, "assignedById": who, "title": "Опт"}
    related = {"owner": owner, OWNER_OPEN_ACTIVITIES: [{"ID": str(i)} for i in others]}
    return ctx(
        activity,
        related,
        entity="activity",
        kind=FIELD_CHANGED,
        fields_changed=frozenset({"COMPLETED"}),
    )


def test_the_last_activity_closed_tells_the_responsible_and_plans_a_follow_up():
    note, todo = rules_next_step.next_step(completed(others=("50",)))  # itself is not "other"
    assert note.user_ids == (REP,) and "без следующего шага" in note.message
    assert isinstance(todo, A.CreateTodo) and todo.record == ("deal", 7)
    assert todo.responsible_id == REP and todo.title == "Следующий шаг по сделке «Опт»"
    # Friday 18:00 + 24 h = Saturday 18:00 → Monday 09:00 Moscow
    assert todo.deadline == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def test_no_follow_up_when_another_step_is_planned_or_the_deal_is_closed_or_not_b2b():
    assert rules_next_step.next_step(completed(others=("51",))) == []
    assert rules_next_step.next_step(completed(owner_stage="C3:WON")) == []
    assert rules_next_step.next_step(completed(owner_stage="C9:NEW")) == []
    assert rules_next_step.next_step(completed(owner_type="1")) == []  # a lead's activity
    assert rules_next_step.next_step(completed(who=None)) == []
    reopened = completed()
    reopened = RuleContext(
        reopened.change, {**reopened.record, "COMPLETED": "N"}, reopened.related,
        reopened.settings, reopened.schema, NOW,
    )  # fmt: skip
    assert rules_next_step.next_step(reopened) == []


# -- repeat sales ------------------------------------------------------------------------------


def sold(company=None, stage="b2b.sales.won", who=REP):
    record = {"id": 7, "stageId": stage, "assignedById": who, "title": "Поставка 1"}
    record |= {"companyId": 30, "contactId": 31, "opportunity": 50000}
    record |= {"UF_CRM_B2B_PAY_DUE": "2026-12-10"}  # a qualified, invoiced deal (stage gate)
    related = {"company": company} if company is not None else {}
    return ctx(record, related, stage_to=stage)


def test_a_sale_opens_the_clients_next_deal_with_a_reorder_todo():
    company = {"id": 30, "title": "ООО Квартал", "UF_CRM_B2B_BUSINESS": "702"}  # a chain
    company |= {"UF_CRM_B2B_AUDIENCE": "семьи", "UF_CRM_B2B_GEO": "Казань", "UF_CRM_B2B_VOLUME": 80}
    create, todo = rules_repeat.after_sale(sold(company))
    assert isinstance(create, A.CreateRecord) and create.entity == "deal"
    assert create.fields == {
        "title": "Дозаказ: ООО Квартал",
        "categoryId": 9,
        "stageId": "b2b.repeat.planned",
        "assignedById": REP,
        "companyId": 30,
        "contactId": 31,
    }
    assert todo.record == ("deal", A.Ref(create.ref)) and todo.responsible_id == REP
    # a chain reorders every 30 days, ×1.5 for a volume of 80 (rules_repeat weighs volume):
    # Friday 18:00 + 45 d = Monday 18:00, after hours → Tuesday 09:00 Moscow
    assert todo.deadline == datetime(2027, 1, 12, 6, 0, tzinfo=UTC)


def test_reorder_interval_company_value_then_business_type_then_default():
    settings = defaults("b2b")
    schema = Schema()
    assert rules_repeat.reorder_days(settings, {"UF_CRM_B2B_REORDER_DAYS": "21"}, schema) == 21
    assert rules_repeat.reorder_days(settings, {"UF_CRM_B2B_BUSINESS": 701}, schema) == 14
    # HoReCa has no interval in the table; a bad company value is ignored
    odd = {"UF_CRM_B2B_BUSINESS": 704, "UF_CRM_B2B_REORDER_DAYS": "-3"}
    assert rules_repeat.reorder_days(settings, odd, schema) == 30
    assert rules_repeat.reorder_days(settings, {}, schema) == 30


def test_a_lost_client_brings_a_find_out_why_todo_and_no_responsible_nothing():
    (todo,) = rules_repeat.after_loss(sold(stage="b2b.repeat.lost"))
    assert todo.record == ("deal", 7) and todo.title.startswith("Выяснить причину ухода")
    assert todo.deadline == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert rules_repeat.after_sale(sold({}, who=None)) == []


# -- an existing client's web form ------------------------------------------------------------


def test_a_web_form_from_a_known_client_is_flagged_to_their_manager():
    from app.objects.providers import CLIENT
    from app.playbooks.b2b import rules_known_client

    lead = {"id": 7, "title": "Заявка с сайта", "sourceId": "WEBFORM"}
    client = {"kind": "company", "id": 30, "responsible": 3, "by": "phone"}
    note, comment = rules_known_client.known_client_form(ctx(lead, {CLIENT: client}))
    assert note.user_ids == (3,) and "компания #30" in note.message
    assert "user_3" in comment.text and comment.entity == "lead"
    # not a web form, an unknown client, or a client without a manager: nothing
    manual = {**lead, "sourceId": "CALL"}
    assert rules_known_client.known_client_form(ctx(manual, {CLIENT: client})) == []
    assert rules_known_client.known_client_form(ctx(lead, {CLIENT: None})) == []
    orphan = {**client, "responsible": None}
    assert rules_known_client.known_client_form(ctx(lead, {CLIENT: orphan})) == []


def test_reorder_interval_weighs_volume_geography_and_audience_and_shows_on_the_card():
    """Seed 003: «от совокупности этих факторов зависит периодичность заказа»."""
    settings = {
        **defaults("b2b"),
        "reorder_geo_factors": {"Дальний Восток": 1.5},
        "reorder_audience_factors": {"кофейни": 0.8},
    }
    schema = Schema()
    chain = {"UF_CRM_B2B_BUSINESS": 702}  # a chain: 30 days in the default table
    assert rules_repeat.reorder_interval_of(settings, chain, schema)[0] == 30
    big = {**chain, "UF_CRM_B2B_VOLUME": 400000}  # ×0.75 → 22.5 → 23
    assert rules_repeat.reorder_interval_of(settings, big, schema)[0] == 23
    far = {**big, "UF_CRM_B2B_GEO": "Хабаровск, Дальний Восток"}  # 22.5 × 1.5 → 34
    days, why = rules_repeat.reorder_interval_of(settings, far, schema)
    assert days == 34 and "география «Дальний Восток»: ×1.5" in why
    cafes = {**far, "UF_CRM_B2B_AUDIENCE": "Кофейни и пекарни"}  # × 0.8 → 27
    assert rules_repeat.reorder_interval_of(settings, cafes, schema)[0] == 27
    # the manager's own value wins
    own = {**cafes, "UF_CRM_B2B_REORDER_DAYS": 10}
    assert rules_repeat.reorder_interval_of(settings, own, schema) == (
        10,
        "задан вручную в карточке компании",
    )
    # the card shows it, written only when it differs
    change = Change("m", "company", 3, FIELD_CHANGED, "c", after=cafes)
    c = RuleContext(change, cafes, {}, settings, schema, NOW)
    (update,) = rules_repeat.show_interval(c)
    assert update.entity == "company" and update.fields == {"UF_CRM_B2B_REORDER_CALC": 27}
    shown = {**cafes, "UF_CRM_B2B_REORDER_CALC": "27"}
    assert rules_repeat.show_interval(RuleContext(change, shown, {}, settings, schema, NOW)) == []
