"""Robot ``next_step_guard`` (b2b): make sure an open deal has a planned next step.

The automation designer's form of the b2b rule (``app.playbooks.b2b.rules_next_step``):
placed on a deal stage, it reads the deal's open activities in one batch; when there are
none, the responsible is notified and the default follow-up to-do is planned
(``default_followup_hours``, moved into working time). It returns whether the deal already
had a next step, so a process can branch on it. Won and lost deals need none.
"""

from __future__ import annotations

from app.robots.contract import LoadEnv, RobotInput, RobotInputError, RobotResult
from app.robots.documents import Loaded, load_document
from app.robots.spec import PropertySpec, RobotSpec

SPEC = RobotSpec(
    code="next_step_guard",
    names={"ru": "Проверить следующий шаг", "en": "Guard the next step"},
    descriptions={
        "ru": "Если у сделки нет запланированного дела — уведомить и запланировать его",
        "en": "If the deal has no planned activity: notify and plan a follow-up",
    },
    properties=(),
    returns=(
        PropertySpec("had_next_step", {"ru": "Шаг уже был", "en": "Had a next step"}, "bool"),
        PropertySpec("error", {"ru": "Ошибка", "en": "Error"}, "string"),
    ),
)

OPEN = "open_activities"


def load(env: LoadEnv) -> Loaded:
    """The deal and its open activities."""
    if env.entity != "deal":
        raise RobotInputError("робот работает только в сделках (deals only)")
    loaded = load_document(env.client, env.naming, env.document)
    flt = {"OWNER_TYPE_ID": 2, "OWNER_ID": env.document.record_id, "COMPLETED": "N"}
    reply = env.client.call(
        "crm.activity.list", {"filter": flt, "select": ["ID"]}, priority="robots"
    )
    rows = reply if isinstance(reply, list) else (reply or {}).get("items") or []
    return Loaded(loaded.record, {**loaded.related, OPEN: list(rows)})


def run(inp: RobotInput) -> RobotResult:
    from app.playbooks.b2b.rules_next_step import follow_up
    from app.playbooks.settings import defaults

    deal = dict(inp.record or {})
    stage = str(deal.get("stageId") or "")
    if stage.endswith((".won", ".lost")) or inp.related.get(OPEN):
        return RobotResult(returns={"had_next_step": True}, log="Следующий шаг есть")
    settings = {**defaults("b2b"), **(inp.settings.get("b2b") or {})}
    actions = follow_up(deal, inp.document.record_id, settings, inp.now)
    if not actions:
        raise RobotInputError("у сделки нет ответственного (no responsible to plan for)")
    return RobotResult(
        returns={"had_next_step": False},
        actions=tuple(actions),
        log="Следующего шага не было: запланировано дело «Следующий шаг»",
    )
