"""Robot ``sync_responsible``: one responsible per client, and per Object.

* On a **company**: every contact of the company gets the company's responsible.
* On a **smart-process item** (the metal «Объект»): it gets the responsible of the deal it
  belongs to, else of its lead (``parentId2`` / ``parentId1``).
* On a **lead or deal**: the Objects (``object_entity``, default ``metal.object``) that belong
  to it get its responsible.

Only records whose responsible differs are written; the answer says how many.
"""

from __future__ import annotations

from typing import Any

from app.robots.contract import LoadEnv, RobotInput, RobotInputError, RobotResult
from app.robots.documents import Loaded, load_document
from app.robots.spec import PropertySpec, RobotSpec
from app.rules.actions import UpdateFields
from app.rules.changes import normalize
from app.rules.model import RESPONSIBLE_FIELD

SPEC = RobotSpec(
    code="sync_responsible",
    names={"ru": "Синхронизировать ответственного", "en": "Sync the responsible"},
    descriptions={
        "ru": "Компания → её контакты; сделка/лид → их объекты; объект ← его сделка или лид",
        "en": "Company → its contacts; deal/lead → their Objects; Object ← its deal or lead",
    },
    properties=(
        PropertySpec(
            "object_entity",
            {"ru": "Смарт-процесс объектов", "en": "Object smart process"},
            "string",
            default="metal.object",
        ),
    ),
    returns=(
        PropertySpec("responsible", {"ru": "Ответственный", "en": "Responsible"}, "user"),
        PropertySpec("updated", {"ru": "Обновлено записей", "en": "Records updated"}, "int"),
        PropertySpec("error", {"ru": "Ошибка", "en": "Error"}, "string"),
    ),
    writes=("assignedById",),
)

STANDARD = {"lead": 1, "deal": 2, "contact": 3, "company": 4}


def _list(env: LoadEnv, etid: int, filter_: dict[str, Any]) -> list[dict[str, Any]]:
    """Every matching record: a list page holds 50 rows (crm-item-list.md), so keyset-page
    (``start=-1`` + ``>id``) rather than stop at the first page."""
    params = {"entityTypeId": etid, "filter": filter_, "select": ["id", RESPONSIBLE_FIELD]}
    rows = env.client.iter_list(
        "crm.item.list", params, id_field="id", items_key="items", priority="robots"
    )
    return list(rows)


def load(env: LoadEnv) -> Loaded:
    """The record and the records whose responsible follows it (or that it follows)."""
    entity = env.entity
    if entity == "contact":
        raise RobotInputError(
            "на контакте нечего синхронизировать: запустите робота на компании (use the company)"
        )
    needs: tuple[str, ...] = ()
    if entity not in STANDARD:
        needs = ("parent:deal", "parent:lead")
    loaded = load_document(env.client, env.naming, env.document, needs)
    related = dict(loaded.related)
    rid = env.document.record_id
    if entity == "company":
        related["followers"] = [("contact", c) for c in _list(env, 3, {"companyId": rid})]
    elif entity in ("lead", "deal"):
        target = (env.props.get("object_entity") or "metal.object").strip()
        try:
            etid = env.naming.entity_type_id(target)
        except KeyError:
            etid = None  # no Objects on this portal: nothing follows a lead or deal
        found = _list(env, etid, {f"parentId{STANDARD[entity]}": rid}) if etid else []
        related["followers"] = [(target, normalize(target, o, env.naming)) for o in found]
    return Loaded(loaded.record, related)


def run(inp: RobotInput) -> RobotResult:
    record = dict(inp.record or {})
    if inp.entity in STANDARD:
        owner = record.get(RESPONSIBLE_FIELD)
        targets = list(inp.related.get("followers") or [])
    else:
        parent = inp.related.get("parent:deal") or inp.related.get("parent:lead")
        if not parent:
            raise RobotInputError("объект не привязан ни к сделке, ни к лиду (no parent deal/lead)")
        owner = parent.get(RESPONSIBLE_FIELD)
        targets = [(inp.entity, record)]
    if not owner:
        raise RobotInputError("у записи-источника нет ответственного (no responsible to copy)")
    owner = int(owner)
    actions = tuple(
        UpdateFields(
            entity, int(rec["id"]), {RESPONSIBLE_FIELD: owner}, key=f"{entity}:{rec['id']}"
        )
        for entity, rec in targets
        if rec and rec.get("id") and _int(rec.get(RESPONSIBLE_FIELD)) != owner
    )
    log = f"Ответственный user_{owner}: обновлено записей — {len(actions)}"
    return RobotResult(
        returns={"responsible": f"user_{owner}", "updated": len(actions)}, actions=actions, log=log
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
