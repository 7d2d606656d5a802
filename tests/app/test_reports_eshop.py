"""eshop refusal analytics (§5.9), client ranking (§5.7) and readable names in reports,
over a hand-made store.

The portal's schema is given as the installer records it (the eshop pipeline is category 3:
its stages are ``C3:*``; the refusal list's values have the portal's enum ids), so the
report has to translate ids back to «Нашёл дешевле» and «Отменён».
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import app.reports as reports
from app.store import mirror, schema_objects
from app.store.base import Base
from app.store.migrate import import_models
from app.store.schema_objects import Known
from app.store.timers import DirectoryCache

M, BARE = "member-shop", "member-bare"
NOV, DEC = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
D = timedelta(days=1)
CHEAPER, CHANGED_MIND = 201, 202
REASON = "ufCrmEsRefusal"  # the camelCase name crm.item.* returns for UF_CRM_ES_REFUSAL


def _schema(s):
    stage = lambda code, sid: Known("stage", code, "1", sid, True, {"list": "DEAL_STAGE_3"})  # noqa: E731
    schema_objects.record(
        s,
        M,
        [
            stage("eshop.order.new", "C3:NEW"),
            stage("eshop.order.shipped", "C3:SHIPPED"),
            stage("eshop.order.cancelled", "C3:LOSE"),
            Known(
                "field",
                "deal:UF_CRM_ES_REFUSAL",
                "77",
                "UF_CRM_ES_REFUSAL",
                True,
                {"entity": "deal", "options": {"cheaper": CHEAPER, "changed_mind": CHANGED_MIND}},
            ),
            *[
                Known("field", f"contact:{code}", str(n), code, True, {"entity": "contact"})
                for n, code in ((80, "UF_CRM_ES_ORDERS"), (81, "UF_CRM_ES_ORDERS_SUM"))
            ],
            Known(
                "field",
                "contact:UF_CRM_ES_SEGMENT",
                "82",
                "UF_CRM_ES_SEGMENT",
                True,
                {"entity": "contact", "options": {"active": 401, "lapsed": 402, "new": 403}},
            ),
        ],
    )


def _order(s, rid, owner, stages, start, reason=None, amount=0, member=M):
    for i, st in enumerate(stages):
        data = {"id": rid, "assignedById": owner, "stageId": st, "opportunity": amount}
        if reason is not None:
            data[REASON] = reason
        mirror.put(s, member, "deal", rid, data, at=start + i * D)


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    import_models()
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        _schema(s)
        users = [{"ID": "5", "NAME": "Ольга", "LAST_NAME": "Смирнова"}]
        s.add(DirectoryCache(member_id=M, name="users", data=users, fetched_at=NOV))
        _order(s, 1, 5, ["C3:NEW", "C3:LOSE"], NOV + D, CHEAPER, 1000)
        _order(s, 2, 7, ["C3:NEW", "C3:SHIPPED", "C3:LOSE"], NOV + 3 * D, CHEAPER, 500.5)
        _order(s, 3, 5, ["C3:NEW", "C3:LOSE"], NOV + 5 * D)  # cancelled without a reason
        _order(s, 4, 5, ["C3:NEW", "C3:LOSE"], NOV - 9 * D, CHANGED_MIND, 300)  # October
        _order(s, 5, 5, ["C3:NEW", "C3:SHIPPED"], NOV + D, CHANGED_MIND)  # not cancelled
        # cancelled before the app was installed: in the mirror, but no stay recorded
        s.add(
            mirror.MirrorRecord(
                member_id=M, entity="deal", record_id=6, data={"id": 6}, stage="C3:LOSE"
            )
        )
        s.commit()
        yield s


def test_reasons_counted_in_the_period_with_share_and_sum(session):
    by_reason, by_manager = reports.build("eshop_refusals", session, M, since=NOV, until=DEC)
    assert by_reason.rows == (
        ("Нашёл дешевле", 2, 66.7, 1500.5),
        ("Не указана", 1, 33.3, 0.0),
    )
    assert by_manager.rows == (
        ("#7", "Нашёл дешевле", 1),  # not in the directory yet: shown by id
        ("Ольга Смирнова", "Нашёл дешевле", 1),
        ("Ольга Смирнова", "Не указана", 1),
    )
    assert "entered «Отменён» in the period: 3" in by_reason.note
    assert "1 cancelled order(s) have no recorded cancellation date" in by_reason.note
    # October alone: the order cancelled then, with its reason
    (october, _) = reports.build("eshop_refusals", session, M, since=NOV - 30 * D, until=NOV)
    assert october.rows == (("Передумал", 1, 100.0, 300.0),)


def test_a_portal_without_the_eshop_pipeline_gets_a_note_not_an_error(session):
    (table,) = reports.build("eshop_refusals", session, BARE, since=NOV, until=DEC)
    assert table.rows == () and "not installed" in table.note


def test_an_unknown_reason_id_is_shown_as_stored(session):
    _order(session, 9, 5, ["C3:NEW", "C3:LOSE"], NOV + 2 * D, reason=999)
    (by_reason, _) = reports.build("eshop_refusals", session, M, since=NOV, until=DEC)
    assert ("999", 1, 25.0, 0.0) in by_reason.rows


def test_order_timing_names_the_stages(session):
    stages, _ = reports.build("order_timing", session, M, record_id=2, since=NOV, until=DEC)
    # slowest first: «Отменён» is still open at the period's end
    assert stages.rows[0][0] == "Отменён"
    assert {row[0] for row in stages.rows} == {"Новый заказ", "Отгружен в доставку", "Отменён"}


def _client(s, rid, name, orders, total, segment, owner=5):
    data = {"id": rid, "name": name, "assignedById": owner, "ufCrmEsOrders": orders}
    data |= {"ufCrmEsOrdersSum": total, "ufCrmEsSegment": segment}
    mirror.put(s, M, "contact", rid, data)


def test_clients_ranked_by_orders_then_sum_with_their_segment(session):
    _client(session, 1, "Анна", 2, "3000", 401)
    _client(session, 2, "Борис", 5, "900.5", 401, owner=7)
    _client(session, 3, "Вера", 2, "4500", 402)
    _client(session, 4, "Глеб", 0, "0", 403)  # no purchases yet: counted in segments only
    _client(session, 5, "Дина", None, None, None)  # never counted by the rules
    ranked, segments = reports.build("eshop_clients", session, M)
    assert ranked.rows == (
        (1, "Борис", 5, 900.5, "Активный", "#7"),
        (2, "Вера", 2, 4500.0, "Уснувший", "Ольга Смирнова"),
        (3, "Анна", 2, 3000.0, "Активный", "Ольга Смирнова"),
    )
    assert segments.rows == (("Активный", 2), ("Новый", 1), ("Уснувший", 1))
