from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app.domain.reports import (
    FunnelRow,
    InvoiceRow,
    TaskRow,
    debts,
    fill_share,
    funnel,
    loss_stages,
    nps_by,
    percent,
    task_report,
)

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)
D = timedelta(days=1)


def test_percent():
    assert percent(1, 3) == Decimal("33.3")
    assert percent(2, 3) == Decimal("66.7")
    assert percent(0, 0) is None


def test_task_report_hand_counted():
    tasks = [
        TaskRow(1, 7, START - D, START + D, START + 2 * D),  # done late
        TaskRow(2, 7, START + D, START + 5 * D, START + 3 * D),  # new, done on time
        TaskRow(3, 7, START + D, START + 10 * D),  # new, open, overdue
        TaskRow(4, 7, START + D, END + D),  # new, open, not yet due
        TaskRow(5, 8, START - 10 * D, START - 5 * D, START - 4 * D),  # before the period
        TaskRow(6, 8, END + D),  # after the period
    ]
    now = START + 20 * D
    seven, eight = task_report(tasks, START, END, now)
    assert (seven.new, seven.done, seven.open, seven.due, seven.overdue) == (3, 2, 2, 3, 2)
    assert seven.overdue_percent == Decimal("66.7")
    assert (eight.new, eight.done, eight.open, eight.due, eight.overdue) == (0, 0, 0, 0, 0)
    assert eight.overdue_percent is None
    # A deadline after `now` is not judged yet.
    early = task_report(tasks, START, END, START + 7 * D)[0]
    assert (early.due, early.overdue) == (2, 1)


def test_funnel_per_key():
    rows = [
        FunnelRow(("Яндекс", "РСЯ"), True, True),
        FunnelRow(("Яндекс", "РСЯ"), False),
        FunnelRow(("Яндекс", "РСЯ"), True),
        FunnelRow(("Сайт", ""), False),
    ]
    stats = funnel(rows)
    assert [(s.key, s.leads, s.converted, s.won) for s in stats] == [
        (("Яндекс", "РСЯ"), 3, 2, 1),
        (("Сайт", ""), 1, 0, 0),
    ]
    assert stats[0].conversion_percent == Decimal("66.7")


def test_loss_stages():
    out = loss_stages([(7, "КП"), (7, "Переговоры"), (7, "КП"), (8, "Б"), (8, "А")])
    assert out[7][:2] == ("КП", 2)
    assert out[8][:2] == ("А", 1)  # tie broken alphabetically
    assert out[7][2]["Переговоры"] == 1


def test_fill_share():
    values = {"a": "x", "b": " ", "c": 0, "d": [], "e": None}
    assert fill_share(values, ["a", "b", "c", "d", "e"]) == Decimal("40.0")
    assert fill_share(values, []) is None


def test_nps_by_employee():
    assert nps_by([(1, 10), (1, 3), (2, 8)]) == {1: (2, Decimal("0.0")), 2: (1, Decimal("0.0"))}
    assert nps_by([(1, 10), (1, 9)])[1] == (2, Decimal("100.0"))


def test_debts():
    today = date(2026, 3, 20)
    invoices = [
        InvoiceRow(1, Decimal(1000), date(2026, 3, 10), Decimal(400)),  # 600 overdue, 10 days
        InvoiceRow(1, Decimal(500), date(2026, 3, 25)),  # outstanding, not overdue
        InvoiceRow(2, Decimal(900), date(2026, 3, 1)),  # 900 overdue, 19 days
        InvoiceRow(3, Decimal(100), date(2026, 3, 1), Decimal(100)),  # paid
        InvoiceRow(4, Decimal(50), date(2026, 4, 1)),
    ]
    assert debts(invoices, today) == [
        (2, Decimal(900), Decimal(900), 19),
        (1, Decimal(1100), Decimal(600), 10),
        (4, Decimal(50), Decimal(0), 0),
    ]
