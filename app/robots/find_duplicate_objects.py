"""Robot ``find_object_duplicates``: Objects matching the current lead/deal (or Object).

Match = the same width, length, height, area, construction site and building purpose after
normalising (``app.domain.dedup``); candidates come from the store's duplicate index. The
robot returns how many and which, and writes a timeline comment listing them.
"""

from __future__ import annotations

from app.objects.keys import OBJECT, keys_of, linked_object
from app.objects.lookup import candidates
from app.robots.contract import LoadEnv, RobotInput, RobotInputError, RobotResult
from app.robots.documents import Loaded, load_document
from app.robots.spec import PropertySpec, RobotSpec
from app.rules.actions import TimelineComment

SPEC = RobotSpec(
    code="find_object_duplicates",
    names={"ru": "Найти дубли объекта", "en": "Find duplicate Objects"},
    descriptions={
        "ru": "Объекты с теми же размерами, площадью, местом и назначением",
        "en": "Objects with the same dimensions, area, site and purpose",
    },
    returns=(
        PropertySpec("count", {"ru": "Найдено", "en": "Found"}, "int"),
        PropertySpec("ids", {"ru": "ID объектов", "en": "Object ids"}, "string"),
        PropertySpec("error", {"ru": "Ошибка", "en": "Error"}, "string"),
    ),
)

SUPPORTED = ("lead", "deal", OBJECT)


def own_ids(entity: str, record_id: int, record) -> list[int]:
    """The Object itself, or the Object the lead/deal is already linked to."""
    if entity == OBJECT:
        return [record_id]
    linked = linked_object(record)
    return [linked] if linked else []


def load(env: LoadEnv) -> Loaded:
    if env.entity not in SUPPORTED:
        raise RobotInputError("робот работает с лидом, сделкой или объектом (lead/deal/Object)")
    loaded = load_document(env.client, env.naming, env.document)
    keys = keys_of(loaded.record, env.entity, env.naming)
    exclude = own_ids(env.entity, env.document.record_id, loaded.record)
    found = candidates(env.client, env.naming, keys, exclude)
    extra = {"complete": bool(keys and keys.is_complete), "candidates": found}
    return Loaded(loaded.record, loaded.related, extra)


def run(inp: RobotInput) -> RobotResult:
    if not inp.extra.get("complete"):
        raise RobotInputError(
            "заполните ширину, длину, высоту, площадь, место и назначение (fill the key fields)"
        )
    found = [int(i) for i in inp.extra.get("candidates") or []]
    ids = ",".join(str(i) for i in found)
    if found:
        text = "Найдены похожие объекты: " + ", ".join(f"#{i}" for i in found)
    else:
        text = "Похожих объектов нет"
    comment = TimelineComment(inp.entity, inp.document.record_id, text, key="dups")
    return RobotResult(returns={"count": len(found), "ids": ids}, actions=(comment,), log=text)
