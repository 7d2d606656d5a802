"""Eshop client rules and stage hints, pure: purchases, segments, returning buyers, totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.playbooks.eshop import rules_clients as C
from app.playbooks.eshop import rules_hints
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import CREATED, STAGE_ENTERED, TIMER_FIRED, Change, RuleContext
from app.sync.fetch import CLIENT_DEALS, CONTACT_DEALS

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
WON = "C3:WON"
SEGMENTS = {"new": 301, "active": 302, "repeat": 303, "lapsed": 304}


class Schema:
    def stage_id(self, entity, code):
        return {"eshop.order.received": WON}.get(code, code)

    def enum_id(self, field, code, entity=None):
        assert field == C.SEGMENT and entity == "contact"
        return SEGMENTS[code]

    def stage_codes(self, entity, raw):
        return [raw]

    def field_name(self, entity, code):
        return code

    def field_code(self, entity, raw):
        return raw

    def entity_type_id(self, entity):
        return {"deal": 2, "contact": 3}[entity]


def deal(i, stage=WON, amount=1000, days_ago=10):
    moved = (NOW - timedelta(days=days_ago)).isoformat()
    return {"id": i, "stageId": stage, "opportunity": amount, "movedTime": moved}


def ctx(record, related, kind=STAGE_ENTERED, record_id=7, entity="deal", detail=None):
    change = Change("m", entity, record_id, kind, "c", detail=detail or {})
    return RuleContext(change, record, related, defaults("eshop"), Schema(), NOW)


def order(**extra):
    return {"stageId": "eshop.order.new", "contactId": 40, "assignedById": 3, **extra}


def test_purchases_count_only_received_orders_with_their_latest_date():
    deals = [deal(1, days_ago=30), deal(2, amount="2500.5", days_ago=5), deal(3, stage="C3:NEW")]
    p = C.purchases(deals, WON)
    assert (p.count, p.total) == (2, 3500.5)
    assert p.last == NOW - timedelta(days=5)
    assert C.purchases(deals, WON, exclude=2).count == 1
    # a bad amount counts the order, not the money; no dates at all: no last purchase
    odd = C.purchases([{"id": 9, "stageId": WON, "opportunity": "n/a"}], WON)
    assert (odd.count, odd.total, odd.last) == (1, 0.0, None)


@pytest.mark.parametrize(
    ("count", "days_ago", "code", "next_in_days"),
    [
        (0, None, "new", None),
        (1, 10, "new", 170),  # one purchase: new until it lapses
        (2, 10, "active", 80),  # two, the last within 90 days: active until day 90
        (3, 100, "repeat", 80),  # the last 100 days ago: repeat until day 180
        (2, 180, "lapsed", None),
    ],
)
def test_segments_and_when_they_next_change(count, days_ago, code, next_in_days):
    last = None if days_ago is None else NOW - timedelta(days=days_ago)
    got, next_change = C.segment(C.Purchases(count, 0.0, last), NOW, defaults("eshop"))
    assert got == code
    assert next_change == (None if next_in_days is None else NOW + timedelta(days=next_in_days))


def test_a_new_order_of_a_client_who_bought_before_is_returning():
    related = {CLIENT_DEALS: [deal(7, stage="C3:NEW"), deal(3)]}
    (update,) = C.mark_returning(ctx(order(), related, kind=CREATED))
    assert update.fields == {C.RETURNING: True}
    # the order itself received does not make it returning; unset → written as "new" (N)
    (first,) = C.mark_returning(ctx(order(), {CLIENT_DEALS: [deal(7)]}, kind=CREATED))
    assert first.fields == {C.RETURNING: False}
    # already marked: nothing; no contact or another pipeline: nothing
    assert C.mark_returning(ctx(order(**{C.RETURNING: "Y"}), related, kind=CREATED)) == []
    assert C.mark_returning(ctx(order(contactId=None), related, kind=CREATED)) == []
    metal = order(stageId="metal.deal.new")
    assert C.mark_returning(ctx(metal, related, kind=CREATED)) == []


def test_an_order_received_rewrites_the_clients_totals_and_segment_once():
    deals = [deal(7, days_ago=0), deal(3, amount=500, days_ago=20)]
    contact = {"id": 40, C.ORDERS: "1", C.ORDERS_SUM: "500", C.SEGMENT: SEGMENTS["new"]}
    out = C.order_changed(ctx(order(), {CLIENT_DEALS: deals, "contacts": [contact]}))
    (update,) = [a for a in out if isinstance(a, A.UpdateFields)]
    assert update.entity == "contact" and update.record_id == 40
    assert update.fields == {C.ORDERS: 2, C.ORDERS_SUM: 1500.0, C.SEGMENT: SEGMENTS["active"]}
    cancel, start = [a for a in out if isinstance(a, A.CancelTimer | A.StartTimer)]
    assert isinstance(cancel, A.CancelTimer) and cancel.record == ("contact", 40)
    assert start.kind == C.RECHECK and start.due_at == NOW + timedelta(days=90)
    # the contact already shows it: only the timer is kept in step
    same = {"id": 40, C.ORDERS: 2, C.ORDERS_SUM: "1500.00", C.SEGMENT: str(SEGMENTS["active"])}
    again = C.order_changed(ctx(order(), {CLIENT_DEALS: deals, "contacts": [same]}))
    assert not [a for a in again if isinstance(a, A.UpdateFields)]


def test_the_recheck_timer_moves_the_segment_without_cancelling_itself():
    deals = [deal(1, days_ago=95), deal(2, days_ago=91)]
    contact = {C.ORDERS: 2, C.ORDERS_SUM: 2000, C.SEGMENT: SEGMENTS["active"]}
    c = ctx(contact, {CONTACT_DEALS: deals}, kind=TIMER_FIRED, record_id=40, entity="contact")
    out = C.recheck(c)
    assert [a.fields for a in out if isinstance(a, A.UpdateFields)] == [
        {C.SEGMENT: SEGMENTS["repeat"]}
    ]
    assert not [a for a in out if isinstance(a, A.CancelTimer)]
    (start,) = [a for a in out if isinstance(a, A.StartTimer)]
    assert start.due_at == NOW - timedelta(days=91) + timedelta(days=180)
    # a contact without eshop purchases is not an eshop client
    assert C.recheck(ctx(contact, {CONTACT_DEALS: []}, kind=TIMER_FIRED, entity="contact")) == []


def test_a_client_falling_asleep_gives_their_manager_a_to_do_once():
    """Seed 004 «Уснувший» and «возвращать к решению о покупке»: the manager is asked."""
    deals = [deal(1, days_ago=300), deal(2, days_ago=181)]
    contact = {C.ORDERS: 2, C.ORDERS_SUM: 2000, C.SEGMENT: SEGMENTS["repeat"],
               "assignedById": 5, "name": "Ирина", "lastName": "Петрова"}  # fmt: skip
    c = ctx(contact, {CONTACT_DEALS: deals}, kind=TIMER_FIRED, record_id=40, entity="contact")
    (todo,) = [a for a in C.recheck(c) if isinstance(a, A.CreateTodo)]
    assert todo.record == ("contact", 40) and todo.responsible_id == 5
    assert "«Ирина Петрова» уснул" in todo.title and todo.deadline > NOW
    # already lapsed (nothing changes) or no responsible: no to-do
    asleep = {**contact, C.SEGMENT: SEGMENTS["lapsed"]}
    c2 = ctx(asleep, {CONTACT_DEALS: deals}, kind=TIMER_FIRED, record_id=40, entity="contact")
    assert not [a for a in C.recheck(c2) if isinstance(a, A.CreateTodo)]
    orphan = {**contact, "assignedById": None}
    c3 = ctx(orphan, {CONTACT_DEALS: deals}, kind=TIMER_FIRED, record_id=40, entity="contact")
    assert not [a for a in C.recheck(c3) if isinstance(a, A.CreateTodo)]


def test_stage_hint_task_due_when_the_stage_limit_runs_out():
    record = order(stageId="eshop.order.confirmed", title="Заказ 5")
    (task,) = rules_hints.hint_task(ctx(record, {}))
    assert task.title == "Подтвердите адрес доставки: Заказ 5"
    assert task.responsible_id == 3 and task.bind_to == ("deal", 7)
    assert task.deadline == NOW + timedelta(hours=24)  # «Подтверждён»: 24 h by default
    # no hint for the stage, no responsible, or another pipeline: no task
    assert rules_hints.hint_task(ctx(order(stageId="eshop.order.shipped"), {})) == []
    assert rules_hints.hint_task(ctx({**record, "assignedById": None}, {})) == []
    assert rules_hints.hint_task(ctx({**record, "stageId": "b2b.deal.new"}, {})) == []
