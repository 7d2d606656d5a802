"""Robot ``route_lead``: apply the playbook's routing table to a lead.

The table is the playbook setting ``routing_table`` (rows as in
``app.domain.routing.rule_from_dict``: region, area range, sources, responsible's position,
named managers → responsible and target stage). The first matching row sets the lead's
responsible and moves it to the row's stage — a stable stage code
(``metal.lead.handed_over``) or a routing symbol (``handed_to_manager``, ``data_complete``…)
of the playbook that owns the table. No matching row: nothing changes (not an error).
A broken table is answered as an error and nothing changes.
"""

from __future__ import annotations

from typing import Any

from app.domain.numbers import ValueProblem, parse_number
from app.domain.routing import RoutingFacts, route, rule_from_dict, validate_table
from app.robots.contract import LoadEnv, RobotInput, RobotInputError, RobotResult
from app.robots.documents import Loaded, load_document
from app.robots.spec import PropertySpec, RobotSpec
from app.rules.actions import MoveStage, UpdateFields
from app.rules.model import RESPONSIBLE_FIELD, STAGE_FIELD

SPEC = RobotSpec(
    code="route_lead",
    names={"ru": "Распределить лид по таблице", "en": "Route lead by the table"},
    descriptions={
        "ru": "Регион, площадь, источник, должность, менеджер → ответственный и стадия",
        "en": "Region, area, source, position, manager → responsible and stage",
    },
    properties=(
        PropertySpec(
            "region_field",
            {"ru": "Поле региона", "en": "Region field"},
            "string",
            default="UF_CRM_MT_REGION",
        ),
        PropertySpec(
            "area_field",
            {"ru": "Поле площади", "en": "Area field"},
            "string",
            default="UF_CRM_MT_AREA",
        ),
    ),
    returns=(
        PropertySpec("responsible", {"ru": "Ответственный", "en": "Responsible"}, "user"),
        PropertySpec("stage", {"ru": "Стадия", "en": "Stage"}, "string"),
        PropertySpec("rule", {"ru": "Правило", "en": "Rule"}, "string"),
        PropertySpec("error", {"ru": "Ошибка", "en": "Error"}, "string"),
    ),
    writes=("assignedById",),
)

TABLE_SETTING = "routing_table"
# routing symbols (app.domain.routing) → the lead stage code suffix in the playbooks
STAGE_SYMBOLS = {
    "unprocessed": "lead.unprocessed",
    "data_missing": "lead.data_missing",
    "data_complete": "lead.data_complete",
    "handed_to_manager": "lead.handed_over",
}


def _table_owner(playbooks: tuple[str, ...], settings: Any) -> tuple[str, list]:
    for name in playbooks:
        rows = (settings.get(name) or {}).get(TABLE_SETTING)
        if rows:
            return name, list(rows) if isinstance(rows, list | tuple) else []
    return "", []


def load(env: LoadEnv) -> Loaded:
    """The lead, and the responsible's position when a table row asks for positions."""
    if env.entity != "lead":
        raise RobotInputError("робот распределяет только лиды (leads only)")
    loaded = load_document(env.client, env.naming, env.document)
    _, rows = _table_owner(env.playbooks, env.settings)
    extra: dict[str, Any] = {}
    responsible = (loaded.record or {}).get(RESPONSIBLE_FIELD)
    if responsible and any(isinstance(r, dict) and r.get("positions") for r in rows):
        users = env.client.call("user.get", {"ID": int(responsible)}, priority="robots") or []
        extra["position"] = (users[0] if users else {}).get("WORK_POSITION")
    return Loaded(loaded.record, loaded.related, extra)


def stage_code(playbook: str, stage: str) -> str:
    """A stable stage code for a routing target (symbols resolved in ``playbook``)."""
    if "." in stage:
        return stage
    return f"{playbook}.{STAGE_SYMBOLS.get(stage, 'lead.' + stage)}"


def run(inp: RobotInput) -> RobotResult:
    record = dict(inp.record or {})
    owner, rows = _table_owner(inp.playbooks, inp.settings)
    if not rows:
        raise RobotInputError("таблица распределения пуста (routing table is empty)")
    try:
        rules = [rule_from_dict(r) for r in rows if isinstance(r, dict)]
    except ValueProblem as exc:
        raise RobotInputError(f"таблица распределения: {exc}") from exc
    problems = validate_table(rules)
    if problems:
        raise RobotInputError("таблица распределения: " + "; ".join(problems))
    facts = RoutingFacts(
        region=record.get(inp.props.get("region_field") or "UF_CRM_MT_REGION"),
        area_m2=_area(record.get(inp.props.get("area_field") or "UF_CRM_MT_AREA")),
        source=record.get("sourceId"),
        responsible_id=_int(record.get(RESPONSIBLE_FIELD)),
        responsible_position=inp.extra.get("position"),
    )
    decision = route(rules, facts)
    if decision is None:
        return RobotResult(returns={"rule": ""}, log="Ни одно правило не подошло; лид не изменён")
    actions = []
    lead_id = inp.document.record_id
    if decision.responsible_id is not None and decision.responsible_id != facts.responsible_id:
        actions.append(
            UpdateFields("lead", lead_id, {RESPONSIBLE_FIELD: decision.responsible_id}, key="who")
        )
    stage = stage_code(owner, decision.stage) if decision.stage else ""
    if stage and stage != record.get(STAGE_FIELD):
        actions.append(MoveStage("lead", lead_id, stage, key="stage"))
    who = f"user_{decision.responsible_id}" if decision.responsible_id is not None else None
    returns = {"responsible": who, "stage": stage, "rule": decision.rule}
    return RobotResult(returns=returns, actions=tuple(actions), log=decision.reason)


def _area(value: Any):
    if value in (None, ""):
        return None
    try:
        return parse_number(value, "Площадь")
    except ValueProblem:
        return None  # an unreadable area matches no area range; the other criteria still apply


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
