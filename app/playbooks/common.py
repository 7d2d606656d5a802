"""Building blocks shared by the five playbooks' data (events every playbook needs, colours)."""

from __future__ import annotations

from app.playbooks.schema import EventSpec, SettingSpec, Text

GREY, BLUE, CYAN, TEAL, YELLOW, ORANGE = (
    "#A8ADB4",
    "#39A8EF",
    "#2FC6F6",
    "#55D0E0",
    "#FFA900",
    "#FF8F4A",
)
PURPLE, GREEN, RED = "#A889F3", "#7BD500", "#FF5752"


def crm_events(*entities: str, delete: bool = True) -> tuple[EventSpec, ...]:
    """ADD/UPDATE(/DELETE) events for the given CRM entities (``LEAD``, ``DEAL``, ...)."""
    ops = ("ADD", "UPDATE", "DELETE") if delete else ("ADD", "UPDATE")
    return tuple(EventSpec(f"ONCRM{e}{op}") for e in entities for op in ops)


def t(ru: str, en: str) -> Text:
    return Text(ru, en)


def role_settings(*, skip: tuple[str, ...] = ()) -> tuple[SettingSpec, ...]:
    """Who plays the roles escalations address (``app.timers.audiences``).

    0 / empty means "resolve from the portal's departments" (the sales department's head,
    the root department's head as CEO), so a fresh install works without configuration.
    """
    specs = (
        SettingSpec("head_of_sales_id", "int", 0, t("РОП (ID пользователя)", "Head of sales id")),
        SettingSpec("ceo_id", "int", 0, t("Директор (ID пользователя)", "CEO user id")),
        SettingSpec("sales_user_ids", "table", [], t("Продавцы (ID)", "Sales staff user ids")),
        SettingSpec("sales_department", "str", "", t("Отдел продаж", "Sales department name")),
    )
    return tuple(s for s in specs if s.key not in skip)


def calendar_settings() -> tuple[SettingSpec, ...]:
    """The portal's working calendar, used where a duration counts in working hours."""
    return (
        SettingSpec("time_zone", "str", "Europe/Moscow", t("Часовой пояс", "Time zone")),
        SettingSpec("work_start", "str", "09:00", t("Начало рабочего дня", "Working day starts")),
        SettingSpec("work_end", "str", "18:00", t("Конец рабочего дня", "Working day ends")),
        SettingSpec("workdays", "table", [1, 2, 3, 4, 5], t("Рабочие дни (1=пн)", "Workdays")),
        SettingSpec("holidays", "table", [], t("Праздники (ГГГГ-ММ-ДД)", "Holidays")),
        SettingSpec(
            "extra_workdays", "table", [], t("Рабочие выходные (ГГГГ-ММ-ДД)", "Working weekends")
        ),
    )


def lead_claim_settings(*claims: str) -> tuple[SettingSpec, ...]:
    """Which leads of the shared lead list this playbook takes (``app.playbooks.lead_owner``):
    sources (``WEBFORM``, ``CALL``…), ``form:<id>``, ``line:<connector>|<line id>``, ``*``."""
    return (
        SettingSpec(
            "shared_lead_stage_names",
            "bool",
            False,
            t(
                "Общие стадии лидов (Не обработан, успех) называются как в этом сценарии",
                "Shared lead stages carry this playbook's names",
            ),
        ),
        SettingSpec(
            "lead_claims",
            "table",
            list(claims),
            t(
                "Чьи лиды: источники, form:ID, line:канал|ID, * — остальные",
                "Leads this playbook takes: sources, form:ID, line:connector|ID, * = the rest",
            ),
        ),
    )
