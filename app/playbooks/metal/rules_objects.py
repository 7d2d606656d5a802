"""Metal: Object duplicate check on «Данные заполнены», Object responsible follows its record.

The check (spec §1 lead rule 5) asks the duplicate index (need ``metal.object_candidates``):
no Object with the same width, length, height, area, site and purpose → an Object is
created from the lead (fields copied, responsible = the lead's) and linked both ways (the
Object's parent is the lead, the lead's «Объект» field names the Object), in the same batch.
Otherwise nothing is linked and the responsible is told which Objects match.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.objects import comms, index
from app.objects.keys import DIMENSIONS, LINK_FIELD, OBJECT, code, linked_object, new_object_fields
from app.objects.providers import CANDIDATES, LINKED
from app.rules import actions as A
from app.rules.model import (
    RESPONSIBLE_FIELD,
    Rule,
    RuleContext,
    on_field_changed,
    on_responsible_changed,
    on_stage_entered,
)

index.install()  # the indexes follow the mirror wherever the metal rules run
comms.install()

DATA_COMPLETE = "metal.lead.data_complete"


def object_actions(
    ctx: RuleContext, record: Mapping[str, Any], responsible: Any = None
) -> list[A.Action]:
    """Create-and-link or report duplicates for lead/deal ``record`` (see module doc)."""
    entity, rid = ctx.change.entity, ctx.change.record_id
    if linked_object(record):
        return []  # already has its Object
    found = list(ctx.related.get(CANDIDATES) or [])
    who = responsible or record.get(RESPONSIBLE_FIELD)
    title = record.get("title") or f"#{rid}"
    if found:
        listed = ", ".join(f"#{i}" for i in found)
        text = f"«{title}»: найдены объекты с теми же размерами и местом: {listed}"
        out: list[A.Action] = [A.TimelineComment(entity, rid, text, key="dup_comment")]
        if who:
            out.append(A.Notify((int(who),), text, key="dup_notify"))
        return out
    fields = new_object_fields({**record, RESPONSIBLE_FIELD: who}, entity, ctx.schema)
    return [
        A.CreateRecord(OBJECT, fields, link_from=(entity, rid), ref="obj", key="object"),
        A.LinkRecords((entity, rid), (OBJECT, A.Ref("obj")), via=LINK_FIELD, key="object_link")
        if entity == "lead"
        else A.TimelineComment(entity, rid, "Создан объект", key="object_note"),
    ]


def check_on_data_complete(ctx: RuleContext) -> list[A.Action]:
    return object_actions(ctx, ctx.record or {})


def check_deal_dimensions(ctx: RuleContext) -> list[A.Action]:
    """A deal's dimensions changed: tell the responsible about Objects that now match."""
    record = ctx.record or {}
    found = [i for i in ctx.related.get(CANDIDATES) or [] if i not in _own(ctx)]
    who = record.get(RESPONSIBLE_FIELD)
    if not found or not who:
        return []
    listed = ", ".join(f"#{i}" for i in found)
    text = f"Сделка «{record.get('title') or ctx.change.record_id}»: похожие объекты {listed}"
    return [A.Notify((int(who),), text, key="dup_notify")]


def _own(ctx: RuleContext) -> list[int]:
    return list(ctx.related.get(LINKED) or [])


def follow_responsible(ctx: RuleContext) -> list[A.Action]:
    """Object responsible = the responsible of the lead/deal it belongs to."""
    who = (ctx.record or {}).get(RESPONSIBLE_FIELD)
    if not who:
        return []
    return [
        A.UpdateFields(OBJECT, object_id, {RESPONSIBLE_FIELD: int(who)}, key=f"obj{object_id}")
        for object_id in _own(ctx)
    ]


_DEAL_DIMS = tuple(code("deal", n) for n in DIMENSIONS)

RULES = [
    Rule(
        "lead_object_check",
        "lead",
        on_stage_entered(DATA_COMPLETE),
        check_on_data_complete,
        needs=(CANDIDATES,),
    ),
    Rule(
        "deal_object_check",
        "deal",
        on_field_changed(*_DEAL_DIMS),
        check_deal_dimensions,
        needs=(CANDIDATES, LINKED),
    ),
    Rule(
        "lead_object_responsible",
        "lead",
        on_responsible_changed(),
        follow_responsible,
        needs=(LINKED,),
    ),
    Rule(
        "deal_object_responsible",
        "deal",
        on_responsible_changed(),
        follow_responsible,
        needs=(LINKED,),
    ),
]
