"""Furniture rules, pure: the store hand-off, refusal reasons, the due-date and in-store SMS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.playbooks.furniture import rules_deals, rules_handoff, rules_refusal
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import FIELD_CHANGED, STAGE_ENTERED, TIMER_FIRED, Change, RuleContext

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 12:00 Moscow
CONSULTANT, ADMIN = 4, 12


class Schema:
    def stage_id(self, entity, code):
        return code

    def stage_codes(self, entity, raw):
        return [raw]


def ctx(record, kind=STAGE_ENTERED, entity="lead", settings=None, **change):
    ch = Change("m", entity, 7, kind, "c", after=record, **change)
    merged = {**defaults("furniture"), **(settings or {})}
    return RuleContext(ch, record, {}, merged, Schema(), NOW)


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


# -- hand-off ------------------------------------------------------------------------------

ADMINS = {"city_admins": {"Москва": ADMIN, " Нижний  Новгород ": "15", "Королёв": 16}}


def lead(**extra):
    base = {"stageId": "furniture.lead.new", "assignedById": CONSULTANT, "title": "Диван"}
    return {**base, "UF_CRM_FR_CITY": "москва", "UF_CRM_FR_VISIT_DATE": "2026-11-25", **extra}


def visit_set(record, settings=ADMINS):
    fields = frozenset({"UF_CRM_FR_VISIT_DATE"})
    return ctx(record, kind=FIELD_CHANGED, settings=settings, fields_changed=fields)


def test_a_client_who_will_visit_goes_to_the_city_store_administrator():
    out = rules_handoff.hand_off(visit_set(lead()))
    (update,) = of(out, A.UpdateFields)
    assert update.fields == {"assignedById": ADMIN}
    # the escalation starts for the administrator, not the consultant
    timers = of(out, A.StartTimer)
    assert timers and all(t.payload.get("responsible") == ADMIN for t in timers)
    assert timers[0].due_at == NOW + timedelta(hours=1)  # remind_after_hours


def test_the_administrator_hears_the_visit_and_the_furniture_kinds_of_interest():
    """Seed 000: «фиксирует … сферу и предмет интереса» — the sphere is a list of kinds."""

    class Named(Schema):
        def enum_id(self, field, value, entity=None):
            return {"kitchen": 501, "children": 504}.get(value, 0) if field.endswith("SPHERE") \
                else 0  # fmt: skip

    record = lead(UF_CRM_FR_SPHERE=[501, 504], UF_CRM_FR_INTEREST="Угловой диван")
    c = visit_set(record)
    c = RuleContext(c.change, c.record, {}, c.settings, Named(), NOW)
    told = [n for n in of(rules_handoff.hand_off(c), A.Notify) if n.user_ids == (ADMIN,)]
    (note,) = told
    assert "Кухня, Детская" in note.message and "Угловой диван" in note.message
    assert "25.11.2026" in note.message and "«Диван»" in note.message


def test_city_names_match_without_case_spaces_or_yo():
    assert rules_handoff.store_admin(ADMINS, "нижний новгород") == 15
    assert rules_handoff.store_admin(ADMINS, "Королев") == 16
    assert rules_handoff.store_admin(ADMINS, "Тверь") is None
    assert rules_handoff.store_admin({"city_admins": {"Тверь": "n/a"}}, "Тверь") is None


def test_no_administrator_for_the_city_tells_the_consultant_and_keeps_the_lead():
    out = rules_handoff.hand_off(visit_set(lead(UF_CRM_FR_CITY="Тверь")))
    assert of(out, A.UpdateFields) == [] and of(out, A.StartTimer) == []
    (note,) = of(out, A.Notify)
    assert note.user_ids == (CONSULTANT,) and "«Тверь»" in note.message


def test_no_hand_off_without_a_visit_date_after_new_or_when_already_there():
    assert rules_handoff.hand_off(visit_set(lead(UF_CRM_FR_VISIT_DATE=None))) == []
    assert rules_handoff.hand_off(visit_set(lead(stageId="furniture.lead.visited"))) == []
    assert rules_handoff.hand_off(visit_set(lead(assignedById=ADMIN))) == []


def test_leads_arriving_by_themselves_go_to_the_online_consultant():
    """Seed 000: «За лидов, созданных автоматически, отвечает онлайн-консультант»."""
    from app.playbooks.furniture import rules_consultant

    settings = {"online_consultant_id": CONSULTANT}
    for source in ("WEBFORM", "EMAIL", "OPENLINE", "IMOL|telegram"):
        record = {"sourceId": source, "assignedById": 1, "stageId": "furniture.lead.new"}
        (update,) = rules_consultant.to_consultant(ctx(record, settings=settings))
        assert update.fields == {"assignedById": CONSULTANT}
    walk_in = {"sourceId": "", "assignedById": ADMIN}
    assert rules_consultant.to_consultant(ctx(walk_in, settings=settings)) == []
    # not configured (a fresh install): the portal's defaults decide
    assert rules_consultant.to_consultant(ctx({"sourceId": "WEBFORM", "assignedById": 1})) == []


# -- refusal reasons ------------------------------------------------------------------------


def test_a_failure_without_a_reason_goes_back_and_the_responsible_is_told():
    record = {"stageId": "furniture.deal.lost", "assignedById": CONSULTANT, "title": "Шкаф"}
    c = ctx(record, entity="deal", stage_from="furniture.deal.delivery", stage_to=record["stageId"])
    move, comment, note = rules_refusal.require_reason(c)
    assert isinstance(move, A.MoveStage) and move.stage == "furniture.deal.delivery"
    assert "«Причина отказа»" in comment.text and note.user_ids == (CONSULTANT,)
    # with a reason it stays closed
    given = {**record, "UF_CRM_FR_REFUSAL": 301}
    assert rules_refusal.require_reason(ctx(given, entity="deal", stage_to=record["stageId"])) == []


def test_a_low_quality_lead_needs_a_reason_too_unless_it_moved_on():
    record = {"stageId": "furniture.lead.low_quality", "assignedById": CONSULTANT}
    c = ctx(record, stage_from="furniture.lead.new", stage_to=record["stageId"])
    (move, *_rest) = rules_refusal.require_reason(c)
    assert move.stage == "furniture.lead.new" and move.entity == "lead"
    moved_on = {**record, "stageId": "furniture.lead.visited"}
    assert rules_refusal.require_reason(ctx(moved_on, stage_to=record["stageId"])) == []


# -- deal SMS --------------------------------------------------------------------------------


def deal(**extra):
    return {"stageId": "furniture.deal.manufacturing", "title": "Кухня", **extra}


def test_the_due_date_sms_timer_is_a_week_before_the_due_date_at_ten():
    record = deal(UF_CRM_FR_DUE_DATE="2026-12-20T00:00:00+03:00")
    (timer,) = rules_deals.start_due_timer(ctx(record, entity="deal"))
    assert timer.due_at == datetime(2026, 12, 13, 7, 0, tzinfo=UTC)  # 10:00 Moscow
    assert timer.payload == {"stage": "furniture.deal.manufacturing", "due": "2026-12-20"}
    # a due date within the week: at once; no date or another stage: nothing
    soon = rules_deals.start_due_timer(ctx(deal(UF_CRM_FR_DUE_DATE="2026-11-25"), entity="deal"))
    assert soon[0].due_at == NOW
    assert rules_deals.start_due_timer(ctx(deal(), entity="deal")) == []
    other = deal(stageId="furniture.deal.contract", UF_CRM_FR_DUE_DATE="2026-12-20")
    assert rules_deals.start_due_timer(ctx(other, entity="deal")) == []


def fired(record, due):
    detail = {"name": rules_deals.DUE_TIMER, "payload": {"due": due}}
    ch = Change("m", "deal", 7, TIMER_FIRED, "timer:1", detail=detail)
    return RuleContext(ch, record, {}, defaults("furniture"), Schema(), NOW)


def test_the_due_date_sms_says_manufacturing_is_behind_and_only_while_it_is():
    """Seed 000: «Если товар задерживается, то за неделю робот отправит клиенту sms»."""
    record = deal(UF_CRM_FR_DUE_DATE="2026-12-20")
    (sms,) = rules_deals.due_sms(fired(record, "2026-12-20"))
    assert sms.channel == "sms" and "20.12.2026" in sms.text and "«Кухня»" in sms.text
    assert "может не успеть" in sms.text  # the text says it is late
    assert rules_deals.due_sms(fired(record, "2026-12-10")) == []  # planned for an old date
    ready = deal(stageId="furniture.deal.in_store", UF_CRM_FR_DUE_DATE="2026-12-20")
    assert rules_deals.due_sms(fired(ready, "2026-12-20")) == []  # on time: no SMS


def moved(old, new, **extra):
    record = deal(UF_CRM_FR_DUE_DATE=new, **extra)
    fields = frozenset({"UF_CRM_FR_DUE_DATE"})
    c = ctx(record, kind=FIELD_CHANGED, entity="deal", fields_changed=fields)
    return RuleContext(
        Change("m", "deal", 7, FIELD_CHANGED, "c", before={"UF_CRM_FR_DUE_DATE": old},
               after=record, fields_changed=fields),
        record, {}, c.settings, Schema(), NOW,
    )  # fmt: skip


def test_a_due_date_moved_later_tells_the_client_both_dates_and_replans():
    out = rules_deals.start_due_timer(moved("2026-12-20", "2027-01-15"))
    (sms,) = of(out, A.MessageClient)
    assert "20.12.2026" in sms.text and "15.01.2027" in sms.text and "перенесён" in sms.text
    (timer,) = of(out, A.StartTimer)
    assert timer.payload["due"] == "2027-01-15"
    # moved to a date within the week: one SMS, no second one from the timer
    (only_sms,) = rules_deals.start_due_timer(moved("2026-11-24", "2026-11-26"))
    assert isinstance(only_sms, A.MessageClient)
    # moved earlier, or first filled: no delay SMS, only the timer
    assert of(rules_deals.start_due_timer(moved("2027-01-15", "2026-12-20")), A.MessageClient) == []
    assert of(rules_deals.start_due_timer(moved(None, "2026-12-20")), A.MessageClient) == []
    # not in manufacturing: nothing at all
    assert rules_deals.start_due_timer(moved("2026-12-20", "2027-01-15", stageId=IN_STORE)) == []


IN_STORE = "furniture.deal.in_store"


def test_in_store_sms_uses_the_setting():
    (sms,) = rules_deals.in_store_sms(ctx(deal(stageId="furniture.deal.in_store"), entity="deal"))
    assert sms.text == "Ваш товар в магазине и готов к выдаче"
    silent = ctx(deal(), entity="deal", settings={"in_store_sms": " "})
    assert rules_deals.in_store_sms(silent) == []
