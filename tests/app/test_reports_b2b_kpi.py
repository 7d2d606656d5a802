"""The b2b reports of seed 003 over a hand-made store: tasks per employee, deferrals and
debts, cold-sales rep activity, samples per rep, NPS per employee and month."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import app.reports as reports
from app.reports import b2b_tasks
from app.store import mirror, schema_objects
from app.store.base import Base
from app.store.migrate import import_models
from app.store.nps import NpsAnswer
from app.store.schema_objects import Known
from app.store.timers import DirectoryCache

M = "member-b2b"
NOV, DEC = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
D = timedelta(days=1)
REP, REP2, MANAGER = 4, 5, 3
PHOTO, DUE, PAID, DEFER = ("ufCrmB2bSamplePhoto", "ufCrmB2bPayDue", "ufCrmB2bPaid",
                           "ufCrmB2bDeferralDays")  # fmt: skip


def _field(code, n, real):
    return Known("field", f"deal:{code}", str(n), real, True, {"entity": "deal"})


def _schema(s):
    field = _field
    schema_objects.record(s, M, [
        Known("category", "b2b.sales", "3", None, True, {}),
        Known("category", "b2b.cold", "5", None, True, {}),
        Known("stage", "b2b.cold.sample", "1", "C5:SAMPLE", True, {"list": "DEAL_STAGE_5"}),
        field("UF_CRM_B2B_SAMPLE_PHOTO", 90, PHOTO), field("UF_CRM_B2B_PAY_DUE", 91, DUE),
        field("UF_CRM_B2B_PAID", 92, PAID), field("UF_CRM_B2B_DEFERRAL_DAYS", 93, DEFER),
    ])  # fmt: skip


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    import_models()
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        _schema(s)
        users = [{"ID": "4", "NAME": "Мария", "LAST_NAME": "Кузнецова"}]
        s.add(DirectoryCache(member_id=M, name="users", data=users, fetched_at=NOV))
        s.commit()
        yield s


def task(s, rid, who, created, deadline=None, closed=None):
    data = {"id": str(rid), "responsibleId": str(who), "status": "5" if closed else "2",
            "createdDate": created.isoformat(), "deadline": deadline and deadline.isoformat(),
            "closedDate": closed and closed.isoformat()}  # fmt: skip
    mirror.put(s, M, "task", rid, data, at=created)


def test_tasks_per_employee_open_done_new_and_overdue_share(session):
    s = session
    task(s, 1, REP, NOV - 3 * D, deadline=NOV + 2 * D, closed=NOV + D)  # done in time
    task(s, 2, REP, NOV + D, deadline=NOV + 3 * D, closed=NOV + 5 * D)  # done late
    task(s, 3, REP, NOV + 2 * D, deadline=NOV + 4 * D)  # still open, overdue
    task(s, 4, REP2, NOV + 2 * D)  # open, no deadline
    (table,) = b2b_tasks.run(s, M, None, NOV, DEC, {}, now=DEC + D)
    assert table.rows == (
        ("Мария Кузнецова", 1, 2, 2, 3, 2, Decimal("66.7")),
        ("#5", 1, 0, 1, 0, 0, None),
    )


def deal(s, rid, **data):
    mirror.put(s, M, "deal", rid, {"id": rid, **data}, at=NOV)


def test_debts_per_client_and_the_deferrals_still_owed(session):
    s = session
    mirror.put(s, M, "company", 30, {"id": 30, "title": "Квартал"}, at=NOV)
    deal(s, 1, title="Поставка 1", categoryId=3, companyId=30, assignedById=REP,
         opportunity=100000, **{DUE: "2026-11-20", PAID: 40000, DEFER: 14})  # fmt: skip
    deal(s, 2, title="Поставка 2", categoryId=3, companyId=30, assignedById=REP,
         opportunity=50000, **{DUE: "2026-12-20", DEFER: 30})  # fmt: skip
    deal(
        s,
        3,
        title="Оплачена",
        categoryId=3,
        companyId=30,
        opportunity=10,
        **{DUE: "2026-11-01", PAID: 10},
    )
    deal(s, 4, title="Холодная", categoryId=5, companyId=30, opportunity=99, **{DUE: "2026-11-01"})
    debts, owed = reports.build("b2b_debts", s, M, until=DEC)
    assert debts.rows == (("Квартал", Decimal(110000), Decimal(60000), 11),)
    assert [r[0] for r in owed.rows] == ["Поставка 1", "Поставка 2"]
    assert owed.rows[0][3:] == (
        Decimal(100000),
        Decimal(40000),
        Decimal(60000),
        14,
        "2026-11-20",
        11,
    )


def test_cold_rep_activity_and_samples_with_a_photo(session):
    s = session
    created = {"createdBy": REP, "createdTime": "2026-11-05T10:00:00+00:00"}
    mirror.put(s, M, "company", 30, {"id": 30, **created}, at=NOV)
    mirror.put(s, M, "contact", 31, {"id": 31, **created}, at=NOV)
    mirror.put(
        s,
        M,
        "contact",
        32,
        {"id": 32, **created, "createdTime": "2026-10-05T10:00:00+00:00"},
        at=NOV,
    )
    full = {"title": "Точка", "companyId": 30, "contactId": 31, "opportunity": 500,
            PHOTO: {"id": 9}, DEFER: 7, "comments": "ок"}  # fmt: skip
    for rid, extra in ((1, full), (2, {"title": "Пусто", "companyId": 0})):
        data = {"id": rid, "categoryId": 5, "assignedById": REP, **created, **extra}
        mirror.put(s, M, "deal", rid, {**data, "stageId": "C5:NEW"}, at=NOV + D)
        mirror.put(s, M, "deal", rid, {**data, "stageId": "C5:SAMPLE"}, at=NOV + 2 * D)
    (activity,) = reports.build("b2b_cold_reps", s, M, since=NOV, until=DEC)
    # deal 1: 7 of 7 fields (100 %); deal 2: the title only (0 = no company), 14.3 % → mean
    assert activity.rows == (("Мария Кузнецова", 1, 1, 2, Decimal("57.2")),)
    (samples,) = reports.build("b2b_samples", s, M, since=NOV, until=DEC)
    assert samples.rows == (("Мария Кузнецова", 1),)  # deal 2 has no photo
    assert reports.build("b2b_samples", s, M, since=DEC, until=DEC + 30 * D)[0].rows == ()


def test_nps_per_employee_and_month(session):
    s = session
    for deal_id, who, marks, at in ((1, REP, (10, 9, 9), NOV + D), (2, REP, (3, 5, 4), NOV + 2 * D),
                                    (3, MANAGER, (8, 8, 7), DEC + D)):  # fmt: skip
        s.add(NpsAnswer(member_id=M, deal_id=deal_id, delivery=marks[0], packaging=marks[1],
                        shelf=marks[2], comment="", answered_at=at, manager_id=who))  # fmt: skip
    s.commit()
    per, months = reports.build("b2b_nps", s, M, since=NOV, until=DEC + 30 * D)
    assert per.rows == (
        ("#3", 1, Decimal("0.0"), Decimal("8.0"), Decimal("8.0"), Decimal("7.0")),
        ("Мария Кузнецова", 2, Decimal("0.0"), Decimal("6.5"), Decimal("7.0"), Decimal("6.5")),
    )
    assert months.rows == (("2026-11", 2, Decimal("0.0")), ("2026-12", 1, Decimal("0.0")))
    only_nov = reports.build("b2b_nps", s, M, since=NOV, until=DEC)[0]
    assert [r[0] for r in only_nov.rows] == ["Мария Кузнецова"]
