"""RQ job: write a booking to its lead (fields, «Замер назначен» for a new booking, and the
visit tasks moved with a rescheduled booking or set aside with a cancelled one)."""

from __future__ import annotations

from app.rules import actions as A

MEASUREMENT = "kitchens.lead.measurement"


def write_booking(
    member_id: str,
    booking_id: int,
    version: int,
    state: str,
    wishes: str = "",
    by: int | None = None,
) -> dict:
    """Apply the booking's lead fields once per (booking, version, state): a replay of the
    job claims the same idempotency keys and changes nothing. ``wishes``: the client's
    wishes sent with the booking (job argument: the booking row has no column for them,
    and they are written once, with the booking that brought them). ``by``: the portal user
    who booked, moved or cancelled (named by their page bearer; None when the tab could not
    tell), shown in the audit's cause."""
    from app.booking.service import lead_fields
    from app.playbooks.kitchens.rules_measurement import confirmation_timer, visit_task_changes
    from app.rules.apply import apply_with
    from app.services import current
    from app.store import bookings
    from app.store.base import utcnow
    from app.sync.context import portal_context
    from app.sync.tasks import open_task_rows

    services = current()
    ctx = portal_context(services, member_id)
    with services.session() as session:
        row = bookings.get(session, member_id, int(booking_id))
        if row is None:
            return {"written": False, "reason": "no such booking"}
        if row.version != int(version) or row.state != state:
            return {"written": False, "reason": "superseded"}  # a later job writes the newer
        fields, lead_id, start = lead_fields(row, wishes), row.lead_id, row.start
        measurer = row.measurer_id
        tasks = open_task_rows(session, member_id, "lead", lead_id)  # as the rules see them
    settings = ctx.settings.get("kitchens") or {}
    actions: list[A.Action] = [A.UpdateFields("lead", lead_id, fields)]
    if state == "active":
        # Our own writes do not come back to the rules, so the job starts the 24-hour
        # confirmation itself (a move starts a new one; the old one finds the time changed).
        if int(version) == 1:
            actions.append(A.MoveStage("lead", lead_id, MEASUREMENT))
        actions.append(confirmation_timer(lead_id, start, MEASUREMENT, settings, utcnow()))
    # ... and moves the visit tasks already set (or sets them aside when cancelled)
    visit = start if state == "active" else None
    actions += visit_task_changes(tasks, settings, visit, measurer)
    report = apply_with(
        services.session,
        ctx.client,
        ctx.naming,
        member_id,
        actions,
        cause=f"booking:{booking_id}:{version}:{state}" + (f" by user {by}" if by else ""),
        rule="kitchens.booking",
        record=("lead", lead_id),
    )
    return {"written": True, "failed": [o.error for o in report.failed]}
