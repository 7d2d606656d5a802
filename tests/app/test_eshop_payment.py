"""Eshop, pure: the order's payment state and the responsible told about payments and
overdue ones (seed 004 audit «Отсутствуют уведомления об оплатах»)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.playbooks.eshop import rules_payment as P
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import CREATED, FIELD_CHANGED, TIMER_FIRED, Change, RuleContext

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 12:00 Moscow
STATES = {"unpaid": 601, "partial": 602, "paid": 603, "overdue": 604}


class Schema:
    def enum_id(self, field, code, entity=None):
        assert field == P.STATE and entity == "deal"
        return STATES[code]


def order(**extra):
    base = {"stageId": "eshop.order.confirmed", "title": "Заказ 7", "opportunity": 5000,
            "assignedById": 3}  # fmt: skip
    return {**base, **extra}


def ctx(record, kind=FIELD_CHANGED, before=None, detail=None):
    fields = frozenset({P.PAID})
    ch = Change("m", "deal", 7, kind, "c", before=before, after=record, fields_changed=fields,
                detail=detail or {})  # fmt: skip
    return RuleContext(ch, record, {}, defaults("eshop"), Schema(), NOW)


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


def test_a_part_payment_marks_the_order_and_tells_the_responsible():
    out = P.on_payment_fields(ctx(order(UF_CRM_ES_PAID=2000), before={P.PAID: 0}))
    (state,) = of(out, A.UpdateFields)
    assert state.fields == {P.STATE: STATES["partial"]}
    (note,) = of(out, A.Notify)
    assert note.user_ids == (3,) and "2000 из 5000" in note.message
    assert "Оплачен частично" in note.message
    # paid in full: «Оплачен», told again; the state already shown is not rewritten
    full = order(UF_CRM_ES_PAID="5000|RUB", UF_CRM_ES_PAYMENT=STATES["paid"])
    out = P.on_payment_fields(ctx(full, before={P.PAID: 2000}))
    assert of(out, A.UpdateFields) == [] and "(Оплачен)" in of(out, A.Notify)[0].message


def test_a_new_order_is_unpaid_and_a_due_date_plans_the_overdue_check():
    record = order(UF_CRM_ES_PAY_DUE="2026-11-25")
    out = P.on_payment_fields(ctx(record, kind=CREATED))
    assert of(out, A.UpdateFields)[0].fields == {P.STATE: STATES["unpaid"]}
    assert of(out, A.Notify) == []
    (timer,) = of(out, A.StartTimer)
    assert timer.due_at == datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # the next morning, 09:00
    # fired after the day: still not paid → «Просрочен», the responsible is told
    fired = ctx(record, kind=TIMER_FIRED, detail={"payload": timer.payload})
    fired = RuleContext(fired.change, record, {}, fired.settings, Schema(), timer.due_at)
    out = P.overdue(fired)
    assert of(out, A.UpdateFields)[0].fields == {P.STATE: STATES["overdue"]}
    assert "не оплачен к сроку 25.11.2026" in of(out, A.Notify)[0].message
    # paid meanwhile, or the date moved: nothing
    paid = {**record, P.PAID: 5000}
    assert (
        P.overdue(RuleContext(fired.change, paid, {}, fired.settings, Schema(), timer.due_at)) == []
    )
    moved = {**record, P.DUE: "2026-12-01"}
    assert (
        P.overdue(RuleContext(fired.change, moved, {}, fired.settings, Schema(), timer.due_at))
        == []
    )


def test_orders_of_other_pipelines_are_left_alone():
    other = order(stageId="b2b.sales.new", UF_CRM_ES_PAID=100)
    assert P.on_payment_fields(ctx(other, before={P.PAID: 0})) == []
