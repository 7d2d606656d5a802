"""B2B cold sales (spec §4 rule 7): no move past «Встреча» without the sample's photo.

A cold-sales deal that leaves «Встреча» forward (to «Образец передан» or later) with an
empty «Фото образца» goes back to «Встреча»; the timeline says why and the sales rep is
told to attach the photo. Moving back or to «Отказ» is always allowed.
"""

from __future__ import annotations

from app.rules import actions as A
from app.rules.model import RESPONSIBLE_FIELD, STAGE_FIELD, Rule, RuleContext, on_stage_entered

MEETING = "b2b.cold.meeting"
AFTER_MEETING = ("b2b.cold.sample", "b2b.cold.order", "b2b.cold.won")
PHOTO = "UF_CRM_B2B_SAMPLE_PHOTO"


def _empty(value) -> bool:
    if isinstance(value, dict):
        return not any(value.values())
    return value in (None, "", [], 0, "0", False)


def sample_photo_required(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    if ctx.change.stage_from != MEETING or str(record.get(STAGE_FIELD)) not in AFTER_MEETING:
        return []
    if not _empty(record.get(PHOTO)):
        return []
    rid = ctx.change.record_id
    text = (
        f"Сделка «{record.get('title') or rid}» возвращена на «Встреча»: прикрепите фото "
        "переданного образца («Фото образца») и переведите сделку снова."
    )
    out: list[A.Action] = [
        A.MoveStage("deal", rid, MEETING),
        A.TimelineComment("deal", rid, text),
    ]
    who = record.get(RESPONSIBLE_FIELD)
    if who:
        out.append(A.Notify((int(who),), text))
    return out


RULES = [
    Rule("sample_photo_required", "deal", on_stage_entered(*AFTER_MEETING), sample_photo_required)
]
