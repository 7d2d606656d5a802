"""An order's payment state from what was paid, its sum and its due date (pure)."""

from __future__ import annotations

from datetime import date


def payment_state(paid: float, total: float, due: date | None, today: date) -> str:
    """unpaid / partial / paid / overdue.

    >>> payment_state(0, 100, None, date(2026, 12, 1)), payment_state(40, 100, None, date(2026, 12, 1))
    ('unpaid', 'partial')
    >>> payment_state(100, 100, date(2026, 11, 1), date(2026, 12, 1))
    'paid'
    >>> payment_state(40, 100, date(2026, 11, 30), date(2026, 12, 1))
    'overdue'
    """
    if total > 0 and paid >= total:
        return "paid"
    if due is not None and today > due:
        return "overdue"
    return "partial" if paid > 0 else "unpaid"
