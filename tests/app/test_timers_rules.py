"""Timer-driven playbook rules, pure: each escalation and cadence step, its stop, outages.

Time moves by building the firing context at a later ``now``; nothing sleeps."""

from datetime import UTC, datetime, timedelta

from app.playbooks.eshop import rules_stage_limits as eshop
from app.playbooks.furniture import rules_timers as furniture
from app.playbooks.kitchens import rules_sos as kitchens
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import CREATED, FIELD_CHANGED, RESPONSIBLE_CHANGED, STAGE_ENTERED
from app.timers.conditions import cancel_reason
from tests.app._timer_ctx import ctx, fired, only

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday 10:00 in Moscow
AUD = {"sales": (3, 4, 2), "head_of_sales": (2,), "ceo": (1,)}
LEAD = {"title": "Кухня Иванов", "stageId": kitchens.UNPROCESSED, "assignedById": 1}


def _sos_start(settings=None):
    (start,) = kitchens.start_sos(ctx(CREATED, LEAD, settings or {}, T0))
    return start


def _fire(start, now, settings=None, record=LEAD):
    return kitchens.SOS_SPEC.rule("sos_fire").decide(fired(start, record, settings or {}, now, AUD))


def test_new_unprocessed_lead_is_announced_at_once_to_sales_only():
    start = _sos_start()
    assert start.kind == "kitchens.sos" and start.due_at == T0 and start.cancel_on == "lead_taken"
    out = _fire(start, T0)
    (note,) = only(out, A.Notify)
    assert note.user_ids == (3, 4, 2) and "Кухня Иванов" in note.message
    (nxt,) = only(out, A.StartTimer)
    assert nxt.due_at == T0 + timedelta(minutes=15)


def test_sos_widens_every_interval_then_repeats_to_everyone_until_taken():
    start = _sos_start({"sos_interval_minutes": 10})
    timer, seen = start, []
    for minute in (0, 10, 20, 30, 40):
        out = _fire(timer, T0 + timedelta(minutes=minute), {"sos_interval_minutes": 10})
        (note,) = only(out, A.Notify)
        seen.append(set(note.user_ids))
        (timer,) = only(out, A.StartTimer)
        assert timer.due_at == T0 + timedelta(minutes=minute + 10)
    assert seen == [{2, 3, 4}, {2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}]
    assert (
        "SOS" in _fire(timer, T0 + timedelta(minutes=50), {"sos_interval_minutes": 10})[0].message
    )


def test_after_an_outage_the_sos_fires_once_at_its_widest_circle():
    start = _sos_start()
    first = _fire(start, T0)
    (timer,) = only(first, A.StartTimer)
    late = _fire(timer, T0 + timedelta(hours=3))  # the app was down for three hours
    (note,) = only(late, A.Notify)
    assert set(note.user_ids) == {1, 2, 3, 4} and "180 мин" in note.message
    (nxt,) = only(late, A.StartTimer)
    assert T0 + timedelta(hours=3) < nxt.due_at <= T0 + timedelta(hours=3, minutes=15)


def test_a_replayed_firing_produces_the_same_keys_so_apply_skips_it():
    start = _sos_start()
    once, twice = _fire(start, T0), _fire(start, T0 + timedelta(seconds=40))
    assert [a.slot(i) for i, a in enumerate(once)] == [a.slot(i) for i, a in enumerate(twice)]


def test_lead_taken_moves_to_assigned_and_cancels_the_sos():
    taken = {**LEAD, "assignedById": 4}
    out = kitchens.lead_taken(ctx(RESPONSIBLE_CHANGED, taken, {}, T0))
    assert only(out, A.MoveStage)[0].stage == kitchens.ASSIGNED
    assert only(out, A.CancelTimer)[0].kind == "kitchens.sos"
    # a timer already on its way sees the new responsible and does nothing
    payload = _sos_start().payload
    assert cancel_reason("lead_taken", taken, payload)
    assert cancel_reason("lead_taken", LEAD, payload) is None
    assert cancel_reason("lead_taken", {**LEAD, "stageId": kitchens.ASSIGNED}, payload)


def test_pool_setting_lead_with_a_real_responsible_is_assigned_without_sos():
    settings = {"sos_pool_user_ids": [1]}
    mine = {**LEAD, "assignedById": 3}
    out = kitchens.start_sos(ctx(CREATED, mine, settings, T0))
    assert out == [A.MoveStage("lead", 7, kitchens.ASSIGNED)]
    assert only(kitchens.start_sos(ctx(CREATED, LEAD, settings, T0)), A.StartTimer)
    assert kitchens.start_sos(ctx(CREATED, {**LEAD, "stageId": kitchens.ASSIGNED}, {}, T0)) == []


# -- furniture ----------------------------------------------------------------------------
FLEAD = {
    "title": "Диван",
    "stageId": furniture.LEAD_NEW,
    "assignedById": 9,
    "UF_CRM_FR_CITY": "г. Минск",
    "name": "Анна",
    "fm": [{"typeId": "PHONE", "value": "+375291112233", "valueType": "WORK"}],
}
FSET = {"store_managers": {"Минск": 12}, "escalate_after_hours": 3}
FAUD = {"store_admin": (9,), "store_manager": (12,)}


def _escalation(settings=FSET, now=T0):
    out = furniture.start_escalation(ctx(RESPONSIBLE_CHANGED, FLEAD, settings, now))
    assert only(out, A.CancelTimer)  # a second hand-off restarts the chain
    (start,) = only(out, A.StartTimer)
    return start


def _fire_esc(timer, now, settings=FSET):
    rule = furniture.ESCALATION.rule("escalation_fire")
    return rule.decide(fired(timer, FLEAD, settings, now, FAUD))


def test_store_admin_is_reminded_then_the_store_manager_told_after_three_hours():
    start = _escalation()
    assert start.due_at == T0 + timedelta(hours=1)
    first = _fire_esc(start, start.due_at)
    assert only(first, A.Notify)[0].user_ids == (9,)
    (nxt,) = only(first, A.StartTimer)
    assert nxt.due_at == T0 + timedelta(hours=3)
    second = _fire_esc(nxt, nxt.due_at)
    assert only(second, A.Notify)[0].user_ids == (12,)
    assert only(second, A.StartTimer) == []  # the chain ends


def test_escalation_in_working_hours_skips_the_weekend():
    friday_17 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # 17:00 Moscow
    settings = {**FSET, "escalation_working_hours": True, "time_zone": "Europe/Moscow"}
    start = _escalation(settings, friday_17)
    assert start.due_at == datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 18:00 Fri, 1 working h
    out = _fire_esc(start, start.due_at, settings)
    (nxt,) = only(out, A.StartTimer)
    assert nxt.due_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 11:00 Moscow


def test_escalation_stops_when_the_client_was_contacted():
    payload = _escalation().payload
    assert cancel_reason("client_contacted", FLEAD, payload) is None
    later = (T0 + timedelta(minutes=30)).isoformat()
    assert cancel_reason("client_contacted", {**FLEAD, "lastActivityTime": later}, payload)
    assert cancel_reason("client_contacted", {**FLEAD, "assignedById": 10}, payload)


def test_store_visit_nurture_reminds_then_closes_a_month_later_with_a_contact():
    visited = {**FLEAD, "stageId": furniture.VISITED}
    (timer,) = furniture.start_nurture(ctx(STAGE_ENTERED, visited, {}, T0))
    rule = furniture.NURTURE.rule("visit_nurture_fire")
    sms_days = []
    for _ in range(3):
        out = rule.decide(fired(timer, visited, {}, timer.due_at))
        (msg,) = only(out, A.MessageClient)
        assert msg.channel == "sms"
        sms_days.append((timer.due_at - T0).days)
        (timer,) = only(out, A.StartTimer)
    assert sms_days == [3, 10, 20] and timer.due_at == T0 + timedelta(days=30)
    out = rule.decide(fired(timer, visited, {}, timer.due_at))
    (contact,) = only(out, A.CreateRecord)
    assert contact.entity == "contact" and contact.fields["name"] == "Анна"
    assert contact.fields["fm"][0]["value"] == "+375291112233"
    assert only(out, A.LinkRecords)[0].parent == ("contact", A.Ref("contact"))
    assert only(out, A.MoveStage)[0].stage == furniture.NOT_RETURNED
    assert only(out, A.StartTimer) == []


def test_each_nurture_touch_carries_its_own_text_reminders_then_offers():
    """Seed 000: «В течение месяца клиенту приходят смс/письма – с напоминаниями и
    возможными акциями» — a sequence of texts, each a setting."""
    settings = defaults("furniture")
    visited = {**FLEAD, "stageId": furniture.VISITED}
    (timer,) = furniture.start_nurture(ctx(STAGE_ENTERED, visited, settings, T0))
    rule = furniture.NURTURE.rule("visit_nurture_fire")
    texts = []
    for _ in range(3):
        out = rule.decide(fired(timer, visited, settings, timer.due_at))
        texts.append(only(out, A.MessageClient)[0].text)
        (timer,) = only(out, A.StartTimer)
    assert texts == settings["reminder_texts"]
    assert "спецпредложение" in texts[1]
    # fewer texts than days: the last one repeats
    short = {**settings, "reminder_texts": ["Ждём вас, {title}!"]}
    (timer,) = furniture.start_nurture(ctx(STAGE_ENTERED, visited, short, T0))
    out = rule.decide(fired(timer, visited, short, T0 + timedelta(days=25)))
    assert [m.text for m in only(out, A.MessageClient)] == [f"Ждём вас, {visited['title']}!"] * 3


def test_nurture_after_an_outage_does_each_missed_step_once_in_order():
    visited = {**FLEAD, "stageId": furniture.VISITED}
    (timer,) = furniture.start_nurture(ctx(STAGE_ENTERED, visited, {}, T0))
    out = furniture.NURTURE.rule("f").decide(fired(timer, visited, {}, T0 + timedelta(days=35)))
    assert len(only(out, A.MessageClient)) == 3 and len(only(out, A.MoveStage)) == 1
    assert only(out, A.StartTimer) == []
    keys = [a.key for a in out]
    assert len(keys) == len(set(keys))


def test_client_coming_back_stops_the_nurture():
    payload = furniture.start_nurture(ctx(STAGE_ENTERED, FLEAD, {}, T0))[0].payload
    back = {**FLEAD, "stageId": "furniture.lead.order_form"}
    assert cancel_reason("client_returned", back, payload)
    assert (
        cancel_reason("client_returned", {**FLEAD, "stageId": furniture.VISITED}, payload) is None
    )


def test_deal_wins_three_days_after_the_delivery_date_and_replans_when_it_moves():
    """Seed 000: «Через 3 дня после самовывоза или доставки» — counted from «Дата
    доставки/выдачи», not from entering «Доставка/Оплата»."""
    deal = {"stageId": furniture.DELIVERY, "title": "D", "UF_CRM_FR_DELIVERED_AT": "2026-12-01"}
    (start,) = furniture.start_auto_win(ctx(STAGE_ENTERED, deal, {}, T0, entity="deal"))
    # 01.12 + 3 days at 10:00 Moscow, not T0 + 3 days
    assert start.due_at == datetime(2026, 12, 4, 7, 0, tzinfo=UTC)
    assert start.cancel_on == "stage_left" and start.payload["delivered"] == "2026-12-01"
    out = furniture.auto_win(fired(start, deal, {}, start.due_at))
    assert out == [A.MoveStage("deal", 7, furniture.WON)]
    assert cancel_reason("stage_left", {"stageId": "furniture.deal.lost"}, start.payload)
    # the date moves to 05.12: the first timer does nothing, a new one is planned
    later = {**deal, "UF_CRM_FR_DELIVERED_AT": "2026-12-05"}
    assert furniture.auto_win(fired(start, later, {}, start.due_at)) == []
    changed = ctx(FIELD_CHANGED, later, {}, T0, entity="deal", fields_changed=frozenset(
        {furniture.DELIVERED}))  # fmt: skip
    (replanned,) = furniture.start_auto_win(changed)
    assert replanned.due_at == datetime(2026, 12, 8, 7, 0, tzinfo=UTC)
    assert replanned.key != start.key
    # a delivery long past wins at once; a date filled in another stage plans nothing
    past = {**deal, "UF_CRM_FR_DELIVERED_AT": "2026-11-01"}
    (now,) = furniture.start_auto_win(ctx(STAGE_ENTERED, past, {}, T0, entity="deal"))
    assert now.due_at == T0
    elsewhere = {**deal, "stageId": "furniture.deal.in_store"}
    assert furniture.start_auto_win(ctx(FIELD_CHANGED, elsewhere, {}, T0, entity="deal")) == []


def test_a_deal_in_delivery_without_a_date_waits_and_its_responsible_is_asked():
    deal = {"stageId": furniture.DELIVERY, "title": "Шкаф", "assignedById": 9}
    settings = defaults("furniture")
    out = furniture.start_auto_win(ctx(STAGE_ENTERED, deal, settings, T0, entity="deal"))
    assert only(out, A.StartTimer) == [] and only(out, A.MoveStage) == []
    (note,) = only(out, A.Notify)
    assert note.user_ids == (9,) and "«Дата доставки/выдачи»" in note.message
    assert "через 3 дн." in note.message and "«Шкаф»" in note.message
    # a timer of the old plan (3 days after entering the stage) never wins an undated deal,
    # nor one whose delivery was less than 3 days ago
    old = A.StartTimer(furniture.AUTO_WIN, T0, ("deal", 7), {"stage": furniture.DELIVERY})
    assert furniture.auto_win(fired(old, deal, {}, T0 + timedelta(days=3))) == []
    recent = {**deal, "UF_CRM_FR_DELIVERED_AT": "2026-11-25"}
    assert furniture.auto_win(fired(old, recent, {}, T0 + timedelta(days=3))) == []
    assert furniture.auto_win(fired(old, recent, {}, T0 + timedelta(days=6)))


# -- eshop --------------------------------------------------------------------------------
ESET = {"stage_limits_hours": {"eshop.order.confirmed": 24}}


def test_order_stage_limit_notifies_the_head_of_sales_with_the_stage_name():
    order = {"stageId": "eshop.order.confirmed", "title": "Заказ 15"}
    out = eshop.start_limit(ctx(STAGE_ENTERED, order, ESET, T0, entity="deal"))
    assert isinstance(out[0], A.CancelTimer)  # the previous stage's limit no longer applies
    (start,) = only(out, A.StartTimer)
    assert start.due_at == T0 + timedelta(hours=24)
    (note,) = eshop.over_limit(fired(start, order, ESET, start.due_at, {"head_of_sales": (2,)}))
    # no alert chat configured: the head of sales is notified instead
    assert isinstance(note, A.ChatMessage) and note.chat_id == "" and note.fallback_users == (2,)
    assert "Подтверждён" in note.text and "24" in note.text
    with_chat = {**ESET, "alert_chat_id": "chat7"}
    (alert,) = eshop.over_limit(fired(start, order, with_chat, start.due_at, {}))
    assert alert.chat_id == "chat7" and "Подтверждён" in alert.text


def test_stage_without_a_limit_only_cancels():
    order = {"stageId": "eshop.order.shipped"}
    out = eshop.start_limit(ctx(STAGE_ENTERED, order, ESET, T0, entity="deal"))
    assert [type(a) for a in out] == [A.CancelTimer]


# -- a cadence written on the engine the way the metal playbook will -----------------------
def test_deferred_demand_cadence_on_the_engine_messages_twice_then_task_and_stage():
    from app.domain.cadences import deferred_demand_cadence
    from app.timers import sequences as seq
    from app.timers.steps import standard_act

    spec = seq.SequenceSpec(
        "metaltest.deferred",
        "deal",
        build=lambda s: deferred_demand_cadence(),
        act=standard_act(
            texts={"deferred_reminder_1": "Напоминаем о нас", "deferred_reminder_2": "Снова мы"},
            stages={"resumed": "metal.deal.resumed"},
        ),
        cancel_on="client_returned",
    )
    deal = {"stageId": "metal.deal.deferred", "title": "Ангар", "assignedById": 5}
    (timer,) = seq.start(spec, ctx(STAGE_ENTERED, deal, {}, T0, entity="deal"))
    rule, steps = spec.rule("deferred_fire"), []
    while True:
        out = rule.decide(fired(timer, deal, {}, timer.due_at))
        steps.append(((timer.due_at - T0).days, [type(a).__name__ for a in out]))
        nxt = only(out, A.StartTimer)
        if not nxt:
            break
        (timer,) = nxt
    assert steps == [
        (60, ["MessageClient", "StartTimer"]),
        (90, ["MessageClient", "StartTimer"]),
        (120, ["CreateTask", "MoveStage"]),
    ]


def test_a_lead_that_starts_with_its_manager_is_assigned_at_once_on_a_fresh_install():
    """Seed 002: a lead with a specific manager — an answered call, or one typed in by hand
    — reaches «Менеджер назначен» like one assigned later, with no SOS, even before
    ``sos_pool_user_ids`` is configured."""
    answered = {**LEAD, "sourceId": "CALL", "assignedById": 4, "createdBy": 1}
    (move,) = kitchens.start_sos(ctx(CREATED, answered, {}, T0))
    assert isinstance(move, A.MoveStage) and move.stage == kitchens.ASSIGNED
    # a call still with the user that created it: nobody has answered it yet, SOS
    ringing = {**answered, "assignedById": 1}
    assert kitchens.start_sos(ctx(CREATED, ringing, {}, T0))[0].kind == "kitchens.sos"
    # typed in by hand: the assignment rule moves it, the SOS stays off
    manual = {**LEAD, "sourceId": "", "assignedById": 4, "createdBy": 4}
    assert kitchens.start_sos(ctx(CREATED, manual, {}, T0)) == []
    # a web form through the integration user: the SOS starts
    form = {**LEAD, "sourceId": "WEBFORM", "assignedById": 1, "createdBy": 1}
    (start,) = kitchens.start_sos(ctx(CREATED, form, {}, T0))
    assert start.kind == "kitchens.sos"


def test_store_escalation_notices_are_settings():
    settings = {
        **defaults("furniture"),
        "escalation_remind_text": "«{title}»: позвоните клиенту!",
        "escalation_manager_text": "«{title}»: администратор молчит",
    }
    seq_ = furniture.escalation_sequence(settings)
    assert [s.template for s in seq_.steps] == [
        "«{title}»: позвоните клиенту!",
        "«{title}»: администратор молчит",
    ]
    assert furniture.escalation_sequence({}).steps[0].template.startswith("Свяжитесь с клиентом")


def test_sos_texts_are_settings():
    settings = {"sos_announce_text": "Лид «{title}» ждёт", "sos_text": "{minutes} мин: «{title}»!"}
    start = _sos_start(settings)
    (note,) = only(_fire(start, T0, settings), A.Notify)
    assert note.message == "Лид «Кухня Иванов» ждёт"
    (nxt,) = only(_fire(start, T0, settings), A.StartTimer)
    (later,) = only(_fire(nxt, T0 + timedelta(minutes=15), settings), A.Notify)
    assert later.message == "15 мин: «Кухня Иванов»!"
