"""eshop §5 rules 6–7: clients ranked by activity, and how many are in each segment.

Reads the mirrored contacts' «Заказов», «Сумма заказов» and «Сегмент» — kept by the eshop
rules (``app.playbooks.eshop.rules_clients``) — so the ranking costs no portal call. A
contact the rules never counted (no orders yet) is not ranked. The period does not apply:
these are the clients' current standings.
"""

from __future__ import annotations

from collections import Counter

from app.reports.labels import Labels
from app.store import mirror

ORDERS, ORDERS_SUM, SEGMENT = "UF_CRM_ES_ORDERS", "UF_CRM_ES_ORDERS_SUM", "UF_CRM_ES_SEGMENT"
TOP = 50


def _number(value) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def _name(data) -> str:
    name = " ".join(str(data.get(k) or "") for k in ("name", "lastName")).strip()
    return name or f"#{data.get('id')}"


def run(session, member_id, record_id, since, until, settings):
    from app.reports import Table

    labels = Labels(session, member_id)
    rows, segments = [], Counter()
    for r in mirror.records(session, member_id, "contact"):
        data = r.data
        orders = _number(labels.field_value("contact", data, ORDERS))
        segment = labels.option("contact", SEGMENT, labels.field_value("contact", data, SEGMENT))
        if segment:
            segments[segment] += 1
        if orders <= 0:
            continue
        total = _number(labels.field_value("contact", data, ORDERS_SUM))
        manager = labels.person(data.get("assignedById"))
        rows.append(
            (r.record_id, _name(data), int(orders), round(total, 2), segment or "—", manager)
        )
    rows.sort(key=lambda row: (-row[2], -row[3], row[0]))
    ranked = tuple((n, *row[1:]) for n, row in enumerate(rows[:TOP], start=1))
    note = (
        f"The {TOP} most active of {len(rows)} clients with purchases." if len(rows) > TOP else ""
    )
    by_segment = tuple(sorted(segments.items(), key=lambda kv: (-kv[1], kv[0])))
    return [
        Table(
            "Clients by activity",
            ("rank", "client", "orders", "sum", "segment", "manager"),
            ranked,
            note,
        ),
        Table("Clients per segment", ("segment", "clients"), by_segment),
    ]


def _spec():
    from app.reports import ReportSpec

    return ReportSpec(
        "eshop_clients", "Активность клиентов", "Client activity", "eshop", "portal", run
    )


SPEC = _spec()
