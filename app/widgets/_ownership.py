"""A detail tab opened on another playbook's record answers quietly.

Bitrix24 shows a ``CRM_LEAD_DETAIL_TAB`` / ``CRM_DEAL_DETAIL_TAB`` on *every* lead or deal:
``placement.bind`` cannot limit a detail tab to a pipeline or category — the docs say this
placement "does not support the OPTIONS parameters" (``api-reference/widgets/crm/detail-tab.md``,
"OPTIONS When Registering via placement.bind"); only the placement code picks the entity
type. So the installer binds a tab only to the entity types its playbook uses, and the page
checks the record: when it belongs to another playbook (``app.rules.ownership``, read from
the mirror), it shows one muted line instead of the tab — no error page.
"""

from __future__ import annotations

import re
from typing import Any

from app.widgets import WidgetContext, page, render, t

_TAB = re.compile(r"^CRM_(LEAD|DEAL|DYNAMIC_(\d+))_DETAIL_TAB$")
QUIET = '<p class="empty">{{ text }}</p>'


def _entity(placement: str, naming: Any) -> str | None:
    match = _TAB.match(placement or "")
    if not match:
        return None
    if match.group(2):
        return naming.entity_for_type_id(int(match.group(2)))
    return match.group(1).lower()


def not_this_process(ctx: WidgetContext, playbook: str, installed) -> str | None:
    """The quiet page when the tab's record belongs to another playbook, else None (the
    record is the playbook's, shared, or not mirrored yet — the page itself decides)."""
    from app.playbooks.settings import all_effective
    from app.rules.changes import normalize
    from app.rules.ownership import SHARED, record_owner
    from app.store import mirror
    from app.widgets._store import naming as naming_of

    if ctx.record_id is None:
        return None
    with ctx.services.session() as session:
        naming = naming_of(session, ctx.member_id)
        entity = _entity(ctx.placement, naming)
        if entity is None:
            return None
        raw = mirror.get(session, ctx.member_id, entity, ctx.record_id)
        if raw is None:
            return None
        names = [n for n in installed if n]
        try:
            settings = all_effective(session, ctx.member_id, names)
        except (KeyError, ValueError):
            settings = {}
    record = normalize(entity, raw, naming) or {}
    owner = record_owner(entity, record, installed=names, naming=naming, settings=settings)
    if owner is SHARED or owner == playbook:
        return None
    text = t(
        ctx,
        "Эта запись не относится к процессу этой вкладки.",
        "This record is not part of this tab's process.",
    )
    return page(ctx, t(ctx, "Не для этой записи", "Not for this record"), render(QUIET, text=text))
