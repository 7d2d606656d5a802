"""Book, move and cancel measurements against the store (kitchens, spec §3 rule 9).

The rules of a booking (working hours of a working day, not in the past, length =
``measurement_hours`` setting, default 3 h) are ``app.domain.booking``'s; the store's cells
make a double booking fail even when two requests race. A refused request raises
:class:`Refused` with the problems and the next free slots to offer instead.

Who may be booked: the ``measurer_user_ids`` setting (empty = anyone the caller names).
The portal is written afterwards by ``app.booking.jobs.write_booking`` (lead fields and
stage); the 24-hour confirmation timer follows the lead's measurement time through the
kitchens ``plan_confirm_timer`` / ``plan_reschedule`` rules, so a move moves the reminder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.domain import booking as domain
from app.domain.calendar import WorkCalendar
from app.store import bookings as store

OFFERS = 5


class Refused(Exception):
    """The booking cannot be made; ``problems`` (Russian) and ``offers`` (free slots)."""

    def __init__(self, problems: list[str], offers: list[domain.Slot]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.offers = offers


@dataclass(frozen=True)
class Policy:
    calendar: WorkCalendar
    length: timedelta
    measurers: tuple[int, ...]

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Policy:
        calendar = WorkCalendar.from_settings(
            tz=str(settings.get("time_zone") or "Europe/Moscow"),
            work_start=str(settings.get("work_start") or "09:00"),
            work_end=str(settings.get("work_end") or "18:00"),
            workdays=tuple(settings.get("workdays") or (1, 2, 3, 4, 5)),
            holidays=tuple(settings.get("holidays") or ()),
            extra_workdays=tuple(settings.get("extra_workdays") or ()),
        )
        hours = float(settings.get("measurement_hours") or 3)
        ids = tuple(int(i) for i in settings.get("measurer_user_ids") or ())
        return cls(calendar, timedelta(hours=hours), ids)


def _domain(row: store.MeasurementBooking) -> domain.Booking:
    return domain.Booking(
        str(row.id), row.measurer_id, row.start, row.end, row.address, row.lead_id
    )


def _nearby(session, member_id: str, start: datetime, days: int = 62) -> list[domain.Booking]:
    rows = store.active_between(
        session, member_id, start - timedelta(days=1), start + timedelta(days=days)
    )
    return [_domain(r) for r in rows]


def free_slots(
    session,
    member_id: str,
    policy: Policy,
    after: datetime,
    *,
    measurer_id: int | None = None,
    n: int = OFFERS,
) -> list[domain.Slot]:
    """The next ``n`` free slots (of one measurer or of all configured ones)."""
    measurers = (measurer_id,) if measurer_id else policy.measurers
    return domain.next_free_slots(
        _nearby(session, member_id, after), measurers, after, policy.calendar, n, policy.length
    )


def _check(session, member_id, policy, candidate: domain.Booking, now: datetime) -> None:
    problems = []
    if policy.measurers and candidate.measurer_id not in policy.measurers:
        problems.append(f"Сотрудник {candidate.measurer_id} не замерщик")
    problems += domain.check_booking(
        candidate, _nearby(session, member_id, candidate.start), policy.calendar, now
    )
    if not (store.on_grid(candidate.start)):
        problems.append("Время замера — с шагом 30 минут")
    if problems:
        after = max(now, candidate.start - timedelta(hours=1))
        raise Refused(problems, free_slots(session, member_id, policy, after))


def lead_problems(session, member_id: str, lead_id: int) -> list[str]:
    """What the error control would send the lead back for in «Замер назначен» (its mirrored
    snapshot; a lead the mirror has not seen yet is not judged here). The HTTP API refuses a
    booking while this is not empty: the job's write would not pass the control."""
    from app.installers.mapping import resolve
    from app.playbooks.kitchens.rules_control import MEASUREMENT, problems
    from app.rules.changes import normalize
    from app.store import mirror

    raw = mirror.get(session, member_id, "lead", lead_id)
    if raw is None:
        return []
    schema = resolve(session, member_id)
    record = normalize("lead", raw, schema) or {}
    return [str(p) for p in problems(record, MEASUREMENT, schema)]


PLAYBOOK = "kitchens"


def lead_owner(session, member_id: str, lead_id: int) -> str | None:
    """The installed playbook the mirrored lead belongs to (``app.rules.ownership``): only a
    kitchens lead can be booked for a measurement. ``SHARED`` (None) when the lead is not
    mirrored (the caller answers 404 for that first)."""
    from app.installers.mapping import resolve
    from app.playbooks.settings import all_effective
    from app.rules.changes import normalize
    from app.rules.ownership import SHARED, record_owner
    from app.store import installations, mirror

    raw = mirror.get(session, member_id, "lead", lead_id)
    row = installations.get(session, member_id)
    if raw is None or row is None:
        return SHARED
    installed = [name for name in (row.playbooks or ()) if name]
    schema = resolve(session, member_id)
    try:
        settings = all_effective(session, member_id, installed)
    except (KeyError, ValueError):  # a playbook the catalogue no longer has: default claims
        settings = {}
    record = normalize("lead", raw, schema) or {}
    return record_owner("lead", record, installed=installed, naming=schema, settings=settings)


def not_kitchens(owner: str | None) -> list[str]:
    """The readable refusal when a lead of another playbook is booked (empty: it may be)."""
    if owner is None or owner == PLAYBOOK:
        return []
    whose = f"процессу «{owner}»" if owner else "ни одному установленному процессу"
    return [
        f"Лид относится к {whose}, а не к кухням: замер для него не бронируется "
        "(the lead is not a kitchens lead)"
    ]


def book(
    session,
    member_id: str,
    policy: Policy,
    now: datetime,
    *,
    lead_id: int,
    measurer_id: int,
    start: datetime,
    address: str = "",
    staff_contact: str = "",
) -> store.MeasurementBooking:
    """Reserve; raises Refused. The caller commits (and rolls back on Refused)."""
    candidate = domain.Booking("new", measurer_id, start, start + policy.length, address, lead_id)
    _check(session, member_id, policy, candidate, now)
    try:
        return store.reserve(
            session,
            member_id,
            lead_id=lead_id,
            measurer_id=measurer_id,
            start=start,
            end=candidate.end,
            address=address,
            staff_contact=staff_contact,
        )
    except store.SlotTaken as exc:  # lost a race the check could not see
        session.rollback()
        raise Refused(
            ["Замерщик уже занят в это время"], free_slots(session, member_id, policy, start)
        ) from exc


def reschedule(
    session,
    member_id: str,
    policy: Policy,
    now: datetime,
    row: store.MeasurementBooking,
    start: datetime,
    measurer_id: int | None = None,
) -> store.MeasurementBooking:
    """Move an active booking; raises Refused (the booking stays where it was)."""
    if row.state != store.ACTIVE:
        raise Refused(["Бронь отменена — создайте новую"], [])
    who = measurer_id or row.measurer_id
    candidate = domain.Booking(
        str(row.id), who, start, start + (row.end - row.start), row.address, row.lead_id
    )
    _check(session, member_id, policy, candidate, now)
    try:
        return store.move(session, row, start, who)
    except store.SlotTaken as exc:
        session.rollback()
        raise Refused(
            ["Замерщик уже занят в это время"], free_slots(session, member_id, policy, start)
        ) from exc


WISHES = "UF_CRM_KT_WISHES"


def lead_fields(row: store.MeasurementBooking, wishes: str = "") -> dict[str, Any]:
    """What the lead card shows of a booking (cleared when it is cancelled); the client's
    wishes given with the booking go to «Особые пожелания заказчика» (never cleared here:
    they are the client's words, not the booking's)."""
    if row.state != store.ACTIVE:
        return {
            "UF_CRM_KT_MEASURE_AT": None,
            "UF_CRM_KT_MEASURER": None,
            "UF_CRM_KT_MEASURE_OK": "N",
        }
    fields: dict[str, Any] = {
        "UF_CRM_KT_MEASURE_AT": row.start.isoformat(),
        "UF_CRM_KT_MEASURER": row.measurer_id,
    }
    if row.address:
        fields["UF_CRM_KT_ADDRESS"] = row.address
    if wishes.strip():
        fields[WISHES] = wishes.strip()
    if row.version > 1:
        fields["UF_CRM_KT_MEASURE_OK"] = "N"  # a new time must be confirmed again
    return fields
