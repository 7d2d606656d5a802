"""eshop deal tab: this order's time per stage and total, next to the averages of the deals
of its own pipeline (an order is not compared with, say, reclamations).

Data only from the mirror store (app.reports.order_timing); no portal calls.
"""

from __future__ import annotations

from app.reports import build
from app.reports.html import tables_html
from app.reports.pipelines import category_of
from app.store import mirror
from app.widgets import WidgetContext, WidgetError, page, register, t


@register("order_timing")
def render(ctx: WidgetContext) -> str:
    if ctx.record_id is None:
        raise WidgetError(t(ctx, "Откройте вкладку в карточке сделки", "Open it on a deal"))
    with ctx.services.session() as session:
        own = build("order_timing", session, ctx.member_id, record_id=ctx.record_id)
        deal = mirror.get(session, ctx.member_id, "deal", ctx.record_id)
        category = category_of(deal) if deal is not None else None
        portal = build("order_timing", session, ctx.member_id, category=category)
    body = tables_html(own, t(ctx, "Нет данных", "No data")) + tables_html(
        portal[:1], t(ctx, "Нет данных", "No data")
    )
    return page(ctx, t(ctx, "Сроки заказа", "Order timing"), body)
