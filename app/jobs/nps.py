"""RQ job: write an answered b2b survey to the portal (``app.nps``).

gather (the answer from the store, the deal from the portal, the manager's head from the
cached directory) → decide (``app.nps.decide``) → apply once: the idempotency keys are the
deal's, so a replayed job writes nothing twice; the store row then records who the manager
was and when it was written.
"""

from __future__ import annotations


def record_nps(member_id: str, deal_id: int) -> dict:
    from app.nps.decide import actions, head_of
    from app.portal.errors import AccessDenied
    from app.rules.apply import apply_with
    from app.rules.changes import normalize
    from app.services import current
    from app.store import nps
    from app.store.base import utcnow
    from app.sync.context import portal_context
    from app.timers.audiences import load_directory

    services = current()
    ctx = portal_context(services, member_id)
    with services.session() as session:
        answer = nps.get(session, member_id, int(deal_id))
        if answer is None:
            return {"written": False, "reason": "no answer"}
        session.expunge(answer)
    raw = ctx.client.call("crm.item.get", {"entityTypeId": 2, "id": int(deal_id)})
    deal = normalize("deal", (raw or {}).get("item") or {}, ctx.naming)
    settings = ctx.settings.get("b2b") or {}
    manager = deal.get("assignedById")
    head = None
    if manager:
        try:
            directory = load_directory(services.session, ctx.client, member_id, utcnow())
            head = head_of(int(manager), directory.departments, directory.users)
        except AccessDenied:  # no «department» scope: the configured head of sales
            head = None
        head = head or int(settings.get("head_of_sales_id") or 0) or None
    report = apply_with(
        services.session, ctx.client, ctx.naming, member_id,
        actions(answer, deal, settings, head, utcnow()),
        cause=f"nps:{deal_id}", rule="b2b.nps_answer", record=("deal", int(deal_id)),
    )  # fmt: skip
    with services.session() as session:
        row = nps.get(session, member_id, int(deal_id))
        row.manager_id = int(manager) if manager else None
        contact = deal.get("contactId")
        row.contact_id = int(contact) if contact not in (None, "", 0, "0") else None
        if not report.failed:
            row.written_at = utcnow()
        session.commit()
    if report.failed:
        raise RuntimeError(f"survey answers not written: {[o.error for o in report.failed]}")
    return {"written": True, "head": head}
