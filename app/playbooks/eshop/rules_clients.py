"""Eshop clients (spec §5 rules 6–8): returning buyers, orders per client, segments.

The client is the order's contact. Its orders are read in the event's own batch
(``client_deals`` for an order, ``contact_deals`` for a contact: the newest 50 deals, so
a client with more than 50 orders is counted on those 50). Only orders of the eshop
pipeline count; a *purchase* is an order that reached «Получен».

* **New vs returning** — every new order (or an order given its contact later) is marked
  «Повторный покупатель» when the client already has a purchase.
* **Orders per client** — the contact keeps «Заказов» (purchases) and «Сумма заказов»
  (their total), rewritten only when they change.
* **Segment** — from the purchases and the settings ``active_window_days`` (90) and
  ``lapsed_after_days`` (180): «Новый» (fewer than two purchases), «Активный» (two or more,
  the last within the active window), «Повторный» (two or more, the last older than
  that), «Уснувший» (the last purchase older than ``lapsed_after_days``). Segments change
  with time too: a durable timer on the contact re-checks it when the last purchase
  crosses the next boundary. A client who becomes «Уснувший» gives the contact's
  responsible a to-do to bring them back (``lapsed_todo_text``).

Orders of other pipelines and contacts without eshop orders are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.rules import actions as A
from app.rules.model import (
    RESPONSIBLE_FIELD,
    STAGE_FIELD,
    Rule,
    RuleContext,
    on_created,
    on_field_changed,
    on_stage_entered,
    on_timer,
)
from app.store.mirror import parse_time
from app.sync.fetch import CLIENT_DEALS, CONTACT_DEALS
from app.timers.calendars import work_calendar
from app.timers.steps import render

PREFIX = "eshop.order."
RECEIVED = "eshop.order.received"
RETURNING = "UF_CRM_ES_RETURNING"
ORDERS, ORDERS_SUM, SEGMENT = "UF_CRM_ES_ORDERS", "UF_CRM_ES_ORDERS_SUM", "UF_CRM_ES_SEGMENT"
RECHECK = "eshop.segment_recheck"


@dataclass(frozen=True)
class Purchases:
    count: int
    total: float
    last: datetime | None


def purchases(deals: Sequence[Mapping[str, Any]], won_stage: str, exclude: int = 0) -> Purchases:
    """The client's purchases among raw ``deals`` (stage id ``won_stage``), ``exclude`` left
    out. The purchase date is when the order entered «Получен» (``movedTime``: its current
    stage), else its close date (a plan the manager may not have updated), else creation."""
    count, total, last = 0, 0.0, None
    for deal in deals:
        if str(deal.get(STAGE_FIELD) or "") != won_stage or int(deal.get("id") or 0) == exclude:
            continue
        count += 1
        total += _amount(deal.get("opportunity"))
        when = (
            parse_time(deal.get("movedTime"))
            or parse_time(deal.get("closedate"))
            or parse_time(deal.get("createdTime"))
        )
        if when is not None and (last is None or when > last):
            last = when
    return Purchases(count, round(total, 2), last)


def _amount(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def segment(
    p: Purchases, now: datetime, settings: Mapping[str, Any]
) -> tuple[str, datetime | None]:
    """``(segment code, when it may next change)`` for purchases ``p`` at ``now``."""
    active = timedelta(days=float(settings.get("active_window_days") or 90))
    lapsed = timedelta(days=float(settings.get("lapsed_after_days") or 180))
    if p.last is None:
        return "new", None
    if now - p.last >= lapsed:
        return "lapsed", None
    if p.count < 2:
        return "new", p.last + lapsed
    if now - p.last < active:
        return "active", p.last + active
    return "repeat", p.last + lapsed


def _is_order(ctx: RuleContext) -> bool:
    return str((ctx.record or {}).get(STAGE_FIELD) or "").startswith(PREFIX)


def _won_stage(ctx: RuleContext) -> str:
    return str(ctx.schema.stage_id("deal", RECEIVED))


def _flag(value: Any) -> bool:
    return value in (True, "Y", "1", 1)


def mark_returning(ctx: RuleContext) -> list[A.Action]:
    """A new order (or one given its contact): returning when the client already bought."""
    record = ctx.record or {}
    if not _is_order(ctx) or not record.get("contactId"):
        return []
    bought = purchases(ctx.related.get(CLIENT_DEALS) or [], _won_stage(ctx), ctx.change.record_id)
    returning = bought.count > 0
    current = record.get(RETURNING)
    if current not in (None, "") and _flag(current) == returning:
        return []  # already says so (an unset flag is written: "new" is an answer too)
    return [A.UpdateFields("deal", ctx.change.record_id, {RETURNING: returning})]


def client_update(
    ctx: RuleContext,
    contact_id: int,
    contact: Mapping[str, Any] | None,
    deals: Sequence,
    *,
    replace_timer: bool = True,
) -> list[A.Action]:
    """The contact's order count, total and segment, written when they differ, and the
    re-check timer for the segment's next boundary (the contact's earlier one cancelled
    first, so one is pending per contact — except from the firing timer itself)."""
    wanted, _code, next_change = client_fields(
        deals, _won_stage(ctx), ctx.now, ctx.settings, ctx.schema
    )
    changed = changed_fields(contact, wanted)
    out: list[A.Action] = []
    if changed:
        out.append(A.UpdateFields("contact", contact_id, changed, key="client"))
    if SEGMENT in changed and _code == "lapsed":
        out += lapsed_todo(ctx, contact_id, contact)
    if replace_timer:
        out.append(A.CancelTimer(RECHECK, ("contact", contact_id), key="recheck:cancel"))
    if next_change is not None:
        out.append(
            A.StartTimer(
                RECHECK,
                next_change,
                ("contact", contact_id),
                {"at": next_change.isoformat()},
                key=f"recheck:{next_change.isoformat()}",
            )
        )
    return out


def lapsed_todo(
    ctx: RuleContext, contact_id: int, contact: Mapping[str, Any] | None
) -> list[A.Action]:
    """The client just became «Уснувший»: a to-do for the contact's responsible to bring
    them back (setting ``lapsed_todo_text``, ``{name}``; nothing without a responsible)."""
    card = contact or {}
    who = card.get(RESPONSIBLE_FIELD)
    text = str(ctx.settings.get("lapsed_todo_text") or "").strip()
    if not who or not text:
        return []
    name = " ".join(str(card.get(k) or "") for k in ("name", "lastName")).strip()
    title = render(text, ctx, name=name or f"#{contact_id}")
    due = work_calendar(ctx.settings).next_working_moment(ctx.now + timedelta(days=1))
    return [
        A.CreateTodo(("contact", contact_id), title, due, responsible_id=int(who), key="lapsed")
    ]


def client_fields(
    deals: Sequence[Mapping[str, Any]],
    won_stage: str,
    now: datetime,
    settings: Mapping[str, Any],
    naming: Any,
) -> tuple[dict[str, Any], str, datetime | None]:
    """``(contact fields, segment code, when the segment may next change)`` from the
    client's ``deals`` (``won_stage``: how «Получен» reads in them — a real stage id in raw
    deals, the stable code in normalized ones)."""
    bought = purchases(deals, won_stage)
    code, next_change = segment(bought, now, settings)
    wanted = {
        ORDERS: bought.count,
        ORDERS_SUM: bought.total,
        SEGMENT: naming.enum_id(SEGMENT, code, entity="contact"),
    }
    return wanted, code, next_change


def changed_fields(contact: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> dict:
    """What of ``wanted`` the contact does not show yet ("2" and 2.0 are the same)."""
    have = contact or {}
    return {k: v for k, v in wanted.items() if not _same(have.get(k), v)}


def _same(have: Any, want: Any) -> bool:
    try:
        return float(have) == float(want)
    except (TypeError, ValueError):
        return False


def order_changed(ctx: RuleContext) -> list[A.Action]:
    """An order created, moved, re-priced or given a contact: its client's totals."""
    record = ctx.record or {}
    contact_id = record.get("contactId")
    if not _is_order(ctx) or not contact_id:
        return []
    contacts = {int(c.get("id") or 0): c for c in ctx.related.get("contacts") or []}
    contact = contacts.get(int(contact_id))
    return client_update(
        ctx, int(contact_id), _by_code(ctx, contact), ctx.related.get(CLIENT_DEALS) or []
    )


def recheck(ctx: RuleContext) -> list[A.Action]:
    """The segment's boundary passed: the contact's segment from its orders now."""
    deals = ctx.related.get(CONTACT_DEALS) or []
    if not any(str(d.get(STAGE_FIELD) or "") == _won_stage(ctx) for d in deals):
        return []
    return client_update(ctx, ctx.change.record_id, ctx.record, deals, replace_timer=False)


def _by_code(ctx: RuleContext, contact: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A raw related contact keyed like the rule's own record (stable codes)."""
    if contact is None:
        return None
    from app.rules.changes import normalize

    return normalize("contact", contact, ctx.schema)


_DEAL_NEEDS = (CLIENT_DEALS, "contacts")
RULES = [
    Rule("returning_buyer", "deal", on_created(), mark_returning, needs=_DEAL_NEEDS),
    Rule(
        "returning_contact",
        "deal",
        on_field_changed("contactId"),
        mark_returning,
        needs=_DEAL_NEEDS,
    ),
    # (a new order enters its first stage too: this covers creation)
    Rule("client_totals_stage", "deal", on_stage_entered(), order_changed, needs=_DEAL_NEEDS),
    Rule(
        "client_totals_fields",
        "deal",
        on_field_changed("opportunity", "contactId", "closedate"),
        order_changed,
        needs=_DEAL_NEEDS,
    ),
    Rule("segment_recheck", "contact", on_timer(RECHECK), recheck, needs=(CONTACT_DEALS,)),
]
