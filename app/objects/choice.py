"""Manual "create Object" with a choice (metal, spec §1 lead rule 6), for the lead's tab.

The employee opens the lead's «Объект» tab while no Object is linked: :func:`lead_choice`
reads the lead's dimensions from the mirror and the duplicate index's candidates (the same
key as rule 5); the employee then picks **create** (a new Object from the lead's fields)
or **link** (an existing Object). :func:`refusal` says why a choice cannot be made now;
:func:`apply_choice` is the RQ job that writes it to the portal with the actions the
``create_object`` robot uses (Object parented to the lead, the lead's «Объект» field naming
it, the lead's responsible on the Object) plus a timeline note naming who chose.

A choice is written once per (lead, action, Object): the job's id and its actions'
idempotency keys come from them, so a double click or a retried job changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.objects import index
from app.objects.keys import (
    DIMENSIONS,
    LINK_FIELD,
    OBJECT,
    area_of,
    code,
    keys_of,
    linked_object,
    new_object_fields,
)
from app.rules import actions as A
from app.rules.changes import normalize
from app.rules.model import RESPONSIBLE_FIELD
from app.store import mirror

CREATE, LINK = "create", "link"
RULE = "metal.object_choice"

# what the employee reads for a missing key (ru, en)
KEY_LABELS = {
    "WIDTH": ("Ширина", "Width"),
    "LENGTH": ("Длина", "Length"),
    "HEIGHT": ("Высота", "Height"),
    "AREA": ("Площадь", "Area"),
    "SITE": ("Место строительства", "Construction site"),
    "PURPOSE": ("Назначение здания", "Building purpose"),
}


@dataclass(frozen=True)
class LeadChoice:
    """What the tab shows before the employee chooses."""

    lead_id: int
    linked: int | None  # the Object already linked (nothing to choose then)
    missing: list[str] = field(default_factory=list)  # key codes not filled in (WIDTH…)
    unreadable: bool = False  # a dimension could not be read as a number
    candidates: list[int] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.unreadable


@dataclass(frozen=True)
class Refusal:
    status: int
    ru: str
    en: str


def _naming(session, member_id: str) -> Any:
    from app.installers.mapping import resolve

    return resolve(session, member_id)


def lead_record(session, member_id: str, lead_id: int) -> dict[str, Any] | None:
    """The mirrored lead keyed by stable codes, or None when the mirror has not seen it."""
    raw = mirror.get(session, member_id, "lead", lead_id)
    if raw is None:
        return None
    return normalize("lead", raw, _naming(session, member_id)) or {}


def lead_choice(session, member_id: str, lead_id: int) -> LeadChoice | None:
    """The lead's keys and duplicate candidates; None when the lead is not mirrored."""
    record = lead_record(session, member_id, lead_id)
    if record is None:
        return None
    own = linked_object(record)
    children = index.linked(session, member_id, "lead", lead_id)
    linked = own or (children[0] if children else None)
    missing = [
        name
        for name in DIMENSIONS
        if (area_of(record, "lead") if name == "AREA" else record.get(code("lead", name)))
        in (None, "", [], 0)
    ]
    keys = keys_of(record, "lead", _naming(session, member_id))
    found = index.candidates(session, member_id, keys) if keys is not None else []
    return LeadChoice(lead_id, linked, missing, keys is None and not missing, found)


def refusal(session, member_id: str, lead_id: int, action: str, object_id: int | None):
    """Why ``action`` cannot be taken on the lead now (a :class:`Refusal`), or None."""
    choice = lead_choice(session, member_id, lead_id)
    if choice is None:
        return Refusal(404, "Лид ещё не загружен из портала", "The lead has not been synced yet")
    if choice.linked:
        return Refusal(
            409,
            f"К лиду уже привязан объект #{choice.linked}",
            f"Object #{choice.linked} is already linked to the lead",
        )
    if action == LINK:
        if object_id is None or mirror.get(session, member_id, OBJECT, object_id) is None:
            return Refusal(404, f"Объект #{object_id} не найден", f"Object #{object_id} not found")
        return None
    if not choice.complete:
        ru = ", ".join(KEY_LABELS[k][0] for k in choice.missing) or "размеры не читаются"
        en = ", ".join(KEY_LABELS[k][1] for k in choice.missing) or "dimensions are unreadable"
        return Refusal(
            409,
            f"Сначала заполните в лиде: {ru} — иначе дубли не проверить",
            f"Fill in on the lead first: {en} — duplicates cannot be checked otherwise",
        )
    return None


def choice_actions(
    record: Mapping[str, Any],
    lead_id: int,
    action: str,
    object_id: int | None,
    naming: Any,
    user_id: int,
) -> list[A.Action]:
    """The portal writes of a choice (the ``create_object`` robot's, plus who chose)."""
    who = record.get(RESPONSIBLE_FIELD)
    if action == LINK:
        target: Any = int(object_id)
        out: list[A.Action] = [A.LinkRecords((OBJECT, target), ("lead", lead_id), key="parent")]
        if who:
            out.append(A.UpdateFields(OBJECT, target, {RESPONSIBLE_FIELD: int(who)}, key="who"))
        note = f"Сотрудник #{user_id} привязал к лиду существующий объект #{target}"
    else:
        fields = new_object_fields(record, "lead", naming)
        out = [A.CreateRecord(OBJECT, fields, link_from=("lead", lead_id), ref="obj", key="object")]
        target = A.Ref("obj")
        note = f"Сотрудник #{user_id} создал для лида новый объект"
    out.append(A.LinkRecords(("lead", lead_id), (OBJECT, target), via=LINK_FIELD, key="field"))
    out.append(A.TimelineComment("lead", lead_id, note, key="note"))
    return out


def job_id(member_id: str, lead_id: int, action: str, object_id: int | None) -> str:
    return f"object-choice-{member_id}-{lead_id}-{action}-{object_id or 0}"[:120]


def apply_choice(
    member_id: str, lead_id: int, action: str, object_id: int | None, user_id: int
) -> dict:
    """RQ job: write the choice unless the lead got an Object meanwhile (rule 5, a robot or
    another employee) — then nothing is written and the reason is returned."""
    from app.rules.apply import apply_with
    from app.services import current
    from app.sync.context import portal_context

    services = current()
    ctx = portal_context(services, member_id)
    with services.session() as session:
        refused = refusal(session, member_id, lead_id, action, object_id)
        record = lead_record(session, member_id, lead_id)
    if refused is not None:
        return {"written": False, "reason": refused.en}
    actions = choice_actions(record or {}, lead_id, action, object_id, ctx.naming, user_id)
    report = apply_with(
        services.session,
        ctx.client,
        ctx.naming,
        member_id,
        actions,
        cause=f"object_choice:{lead_id}:{action}:{object_id or 0}",
        rule=RULE,
        record=("lead", lead_id),
    )
    return {"written": True, "failed": [o.error for o in report.failed]}
