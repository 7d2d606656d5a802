"""Robot ``handoff_to_store`` (furniture): hand the lead to its city's store administrator.

The automation designer's form of the furniture hand-off rule
(``app.playbooks.furniture.rules_handoff``): placed on a lead stage, it looks the lead's
«Город клиента» up in the ``city_admins`` setting, makes that administrator responsible
and starts the store escalation for them. A lead without a city, or a city missing from
the table, gets a readable error answer and stays as it is.
"""

from __future__ import annotations

from dataclasses import replace

from app.robots.contract import RobotInput, RobotInputError, RobotResult
from app.robots.spec import PropertySpec, RobotSpec
from app.rules.actions import UpdateFields
from app.rules.model import RESPONSIBLE_FIELD, ROBOT_CALLED, Change, RuleContext

SPEC = RobotSpec(
    code="handoff_to_store",
    names={"ru": "Передать в магазин города клиента", "en": "Hand off to the client's store"},
    descriptions={
        "ru": "Ответственный — администратор магазина в городе клиента (таблица городов)",
        "en": "Make the store administrator of the client's city responsible (city table)",
    },
    properties=(),
    returns=(
        PropertySpec("administrator", {"ru": "Администратор", "en": "Administrator"}, "user"),
        PropertySpec("error", {"ru": "Ошибка", "en": "Error"}, "string"),
    ),
    writes=("assignedById",),
)


def run(inp: RobotInput) -> RobotResult:
    from app.playbooks.furniture.rules_handoff import CITY, store_admin
    from app.playbooks.furniture.rules_timers import start_escalation
    from app.playbooks.settings import defaults

    if inp.entity != "lead":
        raise RobotInputError("робот работает только в лидах (leads only)")
    record = dict(inp.record or {})
    city = str(record.get(CITY) or "").strip()
    if not city:
        raise RobotInputError("у лида не заполнен «Город клиента» (no client city)")
    settings = {**defaults("furniture"), **(inp.settings.get("furniture") or {})}
    admin = store_admin(settings, city)
    if admin is None:
        raise RobotInputError(
            f"нет администратора магазина для города «{city}» (no store administrator)"
        )
    rid = inp.document.record_id
    actions: list = []
    if str(record.get(RESPONSIBLE_FIELD) or "") != str(admin):
        actions.append(UpdateFields("lead", rid, {RESPONSIBLE_FIELD: admin}, key="handoff"))
        # our own write does not come back to the rules: the escalation starts here
        change = Change("", "lead", rid, ROBOT_CALLED, f"robot:{inp.code}")
        ctx = RuleContext(change, record, {}, settings, inp.naming, inp.now)
        actions += start_escalation(replace(ctx, record={**record, RESPONSIBLE_FIELD: admin}))
    log = f"Лид передан администратору user_{admin} (город «{city}»)"
    return RobotResult(returns={"administrator": f"user_{admin}"}, actions=tuple(actions), log=log)
