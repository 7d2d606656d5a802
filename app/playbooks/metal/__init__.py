"""`metal` — manufacturer of metal structures (seed 001): leads, deals and the «Объект» smart process.

Data only; the rules live in ``rules*.py`` modules of this package.
"""

from __future__ import annotations

from app.playbooks.common import (
    BLUE,
    CYAN,
    GREEN,
    ORANGE,
    RED,
    TEAL,
    YELLOW,
    crm_events,
    lead_claim_settings,
    t,
)
from app.playbooks.schema import (
    EventSpec,
    FieldSpec,
    Option,
    PipelineSpec,
    Playbook,
    SettingSpec,
    SmartProcessSpec,
    WidgetSpec,
    stage,
)

OBJECT = "metal.object"

PURPOSES = (
    Option("warehouse", t("Склад", "Warehouse"), 10),
    Option("production", t("Производство", "Production"), 20),
    Option("agro", t("Сельхозназначение", "Agricultural"), 30),
    Option("retail", t("Торговля", "Retail"), 40),
    Option("sport", t("Спорт", "Sports"), 50),
    Option("other", t("Другое", "Other"), 60),
)


def _dimension_fields(entity: str, prefix: str) -> tuple[FieldSpec, ...]:
    """Width/Length/Height/Area/site/purpose: the same shape on lead, deal and Object."""
    return (
        FieldSpec(f"UF_CRM_{prefix}_WIDTH", entity, "double", t("Ширина, м", "Width, m")),
        FieldSpec(f"UF_CRM_{prefix}_LENGTH", entity, "double", t("Длина, м", "Length, m")),
        FieldSpec(f"UF_CRM_{prefix}_HEIGHT", entity, "double", t("Высота, м", "Height, m")),
        FieldSpec(f"UF_CRM_{prefix}_AREA", entity, "double", t("Площадь, м²", "Area, m²")),
        FieldSpec(
            f"UF_CRM_{prefix}_SITE", entity, "string", t("Место строительства", "Construction site")
        ),
        FieldSpec(
            f"UF_CRM_{prefix}_PURPOSE",
            entity,
            "enumeration",
            t("Назначение здания", "Building purpose"),
            options=PURPOSES,
        ),
    )


FIELDS = (
    *_dimension_fields("lead", "MT"),
    FieldSpec("UF_CRM_MT_REGION", "lead", "string", t("Регион", "Region")),
    FieldSpec(
        "UF_CRM_MT_OBJECT",
        "lead",
        "crm",
        t("Объект", "Object"),
        settings={"DYNAMIC_{metal.object}": "Y"},
    ),
    *_dimension_fields("deal", "MT"),
    FieldSpec("UF_CRM_MT_REGION", "deal", "string", t("Регион", "Region")),
    FieldSpec("UF_CRM_MT_TONNAGE", "deal", "double", t("Тоннаж, т", "Tonnage, t")),
    FieldSpec(
        "UF_CRM_MT_START_DATE", "deal", "date", t("Начало строительства", "Construction start")
    ),
    *_dimension_fields(OBJECT, "OBJ"),
    # the client's INN: the spreadsheet import finds existing companies by it (seed 001)
    FieldSpec("UF_CRM_MT_INN", "company", "string", t("ИНН", "INN")),
    FieldSpec("UF_CRM_OBJ_TONNAGE", OBJECT, "double", t("Тоннаж, т", "Tonnage, t")),
)

LEAD_STAGES = (
    stage("metal.lead.unprocessed", "NEW", "Не обработан", "Unprocessed", color=BLUE),
    stage(
        "metal.lead.data_missing", "MT_DATA_MISS", "Не хватает данных", "Data missing", color=YELLOW
    ),
    stage(
        "metal.lead.data_complete", "MT_DATA_OK", "Данные заполнены", "Data complete", color=CYAN
    ),
    stage(
        "metal.lead.handed_over", "MT_HANDED", "Передан менеджеру", "Handed to manager", color=TEAL
    ),
    stage("metal.lead.converted", "CONVERTED", "Конвертирован в сделку", "Converted", "S", GREEN),
    stage(
        "metal.lead.not_our_product",
        "MT_NOT_OURS",
        "Не продукция компании",
        "Not our product",
        "F",
        RED,
    ),
    stage("metal.lead.erroneous", "JUNK", "Ошибочные лиды", "Erroneous", "F", RED),
    stage("metal.lead.no_contact", "MT_NO_CONTACT", "Нет связи", "No contact", "F", RED),
    stage("metal.lead.stalled", "MT_STALLED", "Зависшие лиды", "Stalled", "F", RED),
    stage(
        "metal.lead.declined", "MT_DECLINED", "Отказ с нашей стороны", "Declined by us", "F", RED
    ),
)

DEAL_PIPELINE = PipelineSpec(
    "metal.deal",
    t("Металлоконструкции", "Metal structures"),
    (
        stage("metal.deal.request", "NEW", "Получен запрос", "Request received", color=BLUE),
        stage("metal.deal.costing", "COSTING", "Расчёт стоимости", "Costing", color=CYAN),
        stage("metal.deal.proposal", "PROPOSAL", "Отправка КП", "Proposal sent", color=TEAL),
        stage("metal.deal.negotiation", "NEGOTIATION", "Переговоры", "Negotiation", color=YELLOW),
        stage(
            "metal.deal.deferred", "DEFERRED", "Отложенный спрос", "Deferred demand", color=ORANGE
        ),
        stage("metal.deal.resumed", "RESUMED", "Возобновление работы", "Resumed", color=BLUE),
        stage(
            "metal.deal.partners", "PARTNERS", "В работе у Партнёров", "With partners", color=CYAN
        ),
        stage(
            "metal.deal.signing", "SIGNING", "Подписание договора", "Contract signing", color=TEAL
        ),
        stage("metal.deal.signed", "WON", "Договор подписан", "Contract signed", "S", GREEN),
        stage(
            "metal.deal.lost_price",
            "LOSE",
            "Не устроила цена конструкций",
            "Structure price",
            "F",
            RED,
        ),
        stage(
            "metal.deal.lost_delivery_price",
            "LOST_DLV_PRICE",
            "Не устроила цена доставки",
            "Delivery price",
            "F",
            RED,
        ),
        stage(
            "metal.deal.lost_delivery_time",
            "LOST_DLV_TIME",
            "Не устроили сроки доставки",
            "Delivery time",
            "F",
            RED,
        ),
        stage(
            "metal.deal.lost_scope",
            "LOST_SCOPE",
            "Не устроил объем услуг",
            "Scope of services",
            "F",
            RED,
        ),
        stage(
            "metal.deal.lost_type",
            "LOST_TYPE",
            "Не устроил тип конструкции",
            "Structure type",
            "F",
            RED,
        ),
        stage(
            "metal.deal.cancelled",
            "CANCELLED",
            "Клиент отменил строительство",
            "Client cancelled",
            "F",
            RED,
        ),
    ),
)

OBJECT_PROCESS = SmartProcessSpec(
    OBJECT,
    t("Объект", "Object"),
    (
        stage("metal.object.new", "NEW", "Новый", "New", color=BLUE),
        stage("metal.object.design", "DESIGN", "Проектирование", "Design", color=CYAN),
        stage("metal.object.building", "BUILDING", "Строительство", "Construction", color=YELLOW),
        stage("metal.object.built", "SUCCESS", "Построен", "Built", "S", GREEN),
        stage("metal.object.cancelled", "FAIL", "Отменён", "Cancelled", "F", RED),
    ),
    parents=("lead", "deal"),
)

PLAYBOOK = Playbook(
    name="metal",
    title=t("Металлоконструкции", "Metal structures"),
    fields=FIELDS,
    lead_stages=LEAD_STAGES,
    pipelines=(DEAL_PIPELINE,),
    smart_processes=(OBJECT_PROCESS,),
    robots=(
        "calc_area",
        "create_object",
        "find_object_duplicates",
        "route_lead",
        "sync_responsible",
        "title_by_template",
    ),
    events=(
        *crm_events("LEAD", "DEAL", "CONTACT", "COMPANY", "DYNAMICITEM"),
        EventSpec("ONCRMACTIVITYADD"),
    ),
    widgets=(
        WidgetSpec(
            "object_merge",
            "CRM_DYNAMIC_{metal.object}_DETAIL_TAB",
            t("Дубли объекта", "Object duplicates"),
        ),
        WidgetSpec("lead_object", "CRM_LEAD_DETAIL_TAB", t("Объект", "Object")),
    ),
    settings=(
        *lead_claim_settings("WEBFORM", "EMAIL"),
        SettingSpec(
            "title_template",
            "str",
            "{source} · {purpose} {area} м² · {site}",
            t("Шаблон названия", "Title template"),
        ),
        SettingSpec(
            "deferred_after_days",
            "days",
            183,
            t(
                "Отложенный спрос: старт строительства дальше, дней",
                "Deferred demand threshold, days",
            ),
        ),
        SettingSpec(
            "reminder_1_days", "days", 60, t("Первое напоминание, дней", "First reminder, days")
        ),
        SettingSpec(
            "reminder_2_days", "days", 30, t("Второе напоминание, дней", "Second reminder, days")
        ),
        SettingSpec(
            "resume_after_days", "days", 30, t("Возобновление после, дней", "Resume after, days")
        ),
        SettingSpec(
            "deferred_reminder_1_text",
            "str",
            "Здравствуйте! Напоминаем о вашем проекте «{title}». Если сроки строительства "
            "изменились, мы подготовим обновлённое предложение.",
            t("Отложенный спрос: первое напоминание клиенту", "Deferred demand: first reminder"),
        ),
        SettingSpec(
            "deferred_reminder_2_text",
            "str",
            "Здравствуйте! Строительный сезон близко — давайте уточним сроки по проекту «{title}».",
            t("Отложенный спрос: второе напоминание клиенту", "Deferred demand: second reminder"),
        ),
        SettingSpec(
            "resume_task_text",
            "str",
            "Связаться с клиентом и возобновить работу по сделке «{title}»",
            t("Задача «возобновить работу»", "Resume task title"),
        ),
        SettingSpec(
            "head_of_sales_id", "int", 1, t("РОП (ID пользователя)", "Head of sales user id")
        ),
        SettingSpec("steel_density_t_per_m2", "float", 0.035, t("Тонн на м²", "Tonnes per m²")),
        SettingSpec("routing_table", "table", [], t("Таблица распределения", "Routing table")),
        SettingSpec(
            "shared_mailboxes",
            "table",
            [],
            t("Общие почтовые ящики (адреса)", "Shared mailboxes (addresses)"),
        ),
        SettingSpec(
            "untouched_alert_hours",
            "hours",
            24,
            t("Необработанный лид: сообщить РОП через, ч", "Untouched lead: alert after, hours"),
        ),
        SettingSpec(
            "stalled_after_days",
            "days",
            14,
            t(
                "Необработанный лид: в «Зависшие» через, дней",
                "Untouched lead: stalled after, days",
            ),
        ),
        SettingSpec(
            "untouched_alert_text",
            "str",
            "Лид «{title}» не обработан {hours} ч (стадия «{stage}»): ни звонка, ни письма, "
            "ни дела. Через {days} дн. без работы он уйдёт в «Зависшие лиды».",
            t("Текст РОП о необработанном лиде", "Untouched lead: text to head of sales"),
        ),
        SettingSpec(
            "untouched_stalled_text",
            "str",
            "Лид «{title}» перенесён в «Зависшие лиды»: {days} дн. без работы на стадии «{stage}».",
            t("Текст о переносе в «Зависшие лиды»", "Stalled lead: text"),
        ),
        SettingSpec(
            "refusal_templates",
            "table",
            {"metal.lead.declined": "", "metal.lead.not_our_product": ""},
            t("Письма отказа", "Refusal letters"),
        ),
    ),
)
