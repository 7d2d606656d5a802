"""b2b §4 rule 9 (seed 003 §3.5): payment deferrals and debts, without the accountant.

From the mirrored deals of the b2b sales and repeat-sales pipelines that carry «Оплатить до»
(the invoice stage requires it): amount = the deal's sum, paid = «Оплачено», deferral =
«Отсрочка платежа, дней». Debts are as of the period's end (default: today): per client the
outstanding and the overdue amounts and how late the oldest overdue invoice is; the
deferrals table lists every deal still owed with its terms.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from app.domain.reports import InvoiceRow, debts
from app.reports.labels import Labels
from app.store import mirror

DUE, PAID, DEFERRAL = "UF_CRM_B2B_PAY_DUE", "UF_CRM_B2B_PAID", "UF_CRM_B2B_DEFERRAL_DAYS"
PIPELINES = ("b2b.sales", "b2b.repeat")


def _money(value) -> Decimal:
    try:
        return Decimal(str(value or 0))
    except InvalidOperation:
        return Decimal(0)


def _date(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def invoices(session, member_id, labels: Labels) -> list[tuple[dict, InvoiceRow]]:
    categories = set()
    for code in PIPELINES:
        try:
            categories.add(str(labels.naming.category(code)))
        except KeyError:
            continue
    out = []
    for r in mirror.records(session, member_id, "deal"):
        data = r.data or {}
        due = _date(labels.field_value("deal", data, DUE))
        if due is None or str(data.get("categoryId")) not in categories:
            continue
        client = int(data.get("companyId") or 0)
        paid = _money(labels.field_value("deal", data, PAID))
        out.append((data, InvoiceRow(client, _money(data.get("opportunity")), due, paid)))
    return out


def _company(session, member_id, company_id) -> str:
    data = mirror.get(session, member_id, "company", company_id) if company_id else None
    return str((data or {}).get("title") or (f"#{company_id}" if company_id else "—"))


def run(session, member_id, record_id, since, until, settings):
    from app.reports import Table

    labels = Labels(session, member_id)
    today = (until or datetime.now(UTC)).date()
    found = invoices(session, member_id, labels)
    per_client = tuple(
        (_company(session, member_id, cid), total, late, days)
        for cid, total, late, days in debts([inv for _d, inv in found], today)
    )
    owed = tuple(
        (data.get("title") or f"#{data.get('id')}", _company(session, member_id, inv.client_id),
         labels.person(data.get("assignedById")), inv.amount, inv.paid, inv.amount - inv.paid,
         labels.field_value("deal", data, DEFERRAL), inv.due.isoformat(),
         max(0, (today - inv.due).days))
        for data, inv in sorted(found, key=lambda f: f[1].due)
        if inv.amount > inv.paid
    )  # fmt: skip
    return [
        Table("Debts per client", ("client", "outstanding", "overdue", "days_late"), per_client),
        Table(
            "Payment deferrals",
            (
                "deal",
                "client",
                "manager",
                "amount",
                "paid",
                "owed",
                "deferral_days",
                "due",
                "days_late",
            ),
            owed,
        ),  # fmt: skip
    ]


def _spec():
    from app.reports import ReportSpec

    return ReportSpec(
        "b2b_debts", "Отсрочки и задолженности", "Deferrals and debts", "b2b", "portal", run
    )


SPEC = _spec()
