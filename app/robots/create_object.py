"""Robot ``create_object``: an Object from the lead/deal, or a link to an existing one.

``mode``:

* ``auto`` (default) — duplicates found → nothing is created; the robot returns them
  (``count``/``ids``) so the employee chooses; none → the Object is created.
* ``create`` — create a new Object even if similar ones exist.
* ``link`` — link the Object ``object_id`` (an existing one).

A created Object gets the record's dimensions, site and purpose, and the record's
responsible; it is linked both ways (its parent is the lead/deal; a lead's «Объект» field
names it). Linking an existing Object sets the same links and its responsible.
"""

from __future__ import annotations

from app.objects.keys import LINK_FIELD, OBJECT, keys_of, linked_object, new_object_fields
from app.objects.lookup import candidates
from app.robots.contract import LoadEnv, RobotInput, RobotInputError, RobotResult
from app.robots.documents import Loaded, load_document
from app.robots.spec import PropertySpec, RobotSpec
from app.rules import actions as A
from app.rules.model import RESPONSIBLE_FIELD

SPEC = RobotSpec(
    code="create_object",
    names={"ru": "Создать объект", "en": "Create Object"},
    descriptions={
        "ru": "Объект из полей лида/сделки или привязка существующего объекта",
        "en": "An Object from the lead/deal fields, or link an existing Object",
    },
    properties=(
        PropertySpec(
            "mode",
            {"ru": "Действие", "en": "Action"},
            "select",
            default="auto",
            options={
                "auto": "Создать, если нет дублей",
                "create": "Создать новый",
                "link": "Привязать существующий",
            },
        ),
        PropertySpec("object_id", {"ru": "ID объекта для привязки", "en": "Object id"}, "int"),
    ),
    returns=(
        PropertySpec("created", {"ru": "Создан", "en": "Created"}, "bool"),
        PropertySpec("object_id", {"ru": "ID объекта", "en": "Object id"}, "int"),
        PropertySpec("count", {"ru": "Найдено дублей", "en": "Duplicates found"}, "int"),
        PropertySpec("ids", {"ru": "ID дублей", "en": "Duplicate ids"}, "string"),
        PropertySpec("error", {"ru": "Ошибка", "en": "Error"}, "string"),
    ),
    writes=("assignedById",),
)


def load(env: LoadEnv) -> Loaded:
    if env.entity not in ("lead", "deal"):
        raise RobotInputError("робот запускается из лида или сделки (lead or deal only)")
    loaded = load_document(env.client, env.naming, env.document)
    found: list[int] = []
    if (env.props.get("mode") or "auto") == "auto":
        keys = keys_of(loaded.record, env.entity, env.naming)
        own = linked_object(loaded.record)
        found = candidates(env.client, env.naming, keys, [own] if own else [])
    return Loaded(loaded.record, loaded.related, {"candidates": found})


def _links(entity: str, rid: int, target) -> list[A.Action]:
    out: list[A.Action] = [A.LinkRecords((OBJECT, target), (entity, rid), key="parent")]
    if entity == "lead":
        out.append(A.LinkRecords((entity, rid), (OBJECT, target), via=LINK_FIELD, key="field"))
    return out


def run(inp: RobotInput) -> RobotResult:
    record = dict(inp.record or {})
    entity, rid = inp.entity, inp.document.record_id
    mode = inp.props.get("mode") or "auto"
    who = record.get(RESPONSIBLE_FIELD)
    if mode == "link":
        target = inp.props.get("object_id")
        if not target:
            raise RobotInputError("укажите ID объекта для привязки (object_id is required)")
        actions = _links(entity, rid, int(target))
        if who:
            actions.append(
                A.UpdateFields(OBJECT, int(target), {RESPONSIBLE_FIELD: int(who)}, key="who")
            )
        returns = {"created": False, "object_id": int(target), "count": 0, "ids": ""}
        return RobotResult(returns, tuple(actions), f"Привязан объект #{target}")
    current = linked_object(record)
    if current and mode == "auto":
        returns = {"created": False, "object_id": current, "count": 0, "ids": ""}
        return RobotResult(returns, (), f"Объект уже привязан: #{current}")
    found = [int(i) for i in inp.extra.get("candidates") or []]
    if found and mode == "auto":
        ids = ",".join(str(i) for i in found)
        text = "Есть похожие объекты: " + ", ".join(f"#{i}" for i in found)
        text += ". Запустите робота с действием «Создать новый» или «Привязать существующий»."
        returns = {"created": False, "object_id": None, "count": len(found), "ids": ids}
        comment = A.TimelineComment(entity, rid, text, key="dups")
        return RobotResult(returns, (comment,), text)
    fields = new_object_fields(record, entity, inp.naming)
    actions: list[A.Action] = [
        A.CreateRecord(OBJECT, fields, link_from=(entity, rid), ref="obj", key="object")
    ]
    if entity == "lead":
        actions.append(
            A.LinkRecords((entity, rid), (OBJECT, A.Ref("obj")), via=LINK_FIELD, key="field")
        )
    returns = {"created": True, "object_id": None, "count": len(found), "ids": ""}
    return RobotResult(returns, tuple(actions), "Объект создан из полей записи")
