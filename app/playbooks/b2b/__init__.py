"""`b2b` — B2B distributor with field sales reps (seed 003). Data only."""

from __future__ import annotations

from app.playbooks.common import (
    BLUE,
    CYAN,
    GREEN,
    ORANGE,
    RED,
    TEAL,
    YELLOW,
    calendar_settings,
    crm_events,
    role_settings,
    t,
)
from app.playbooks.schema import (
    FieldSpec,
    Option,
    PipelineSpec,
    Playbook,
    SettingSpec,
    WidgetSpec,
    stage,
)

BUSINESS_TYPES = (
    Option("retail", t("Розничный магазин", "Retail shop"), 10),
    Option("chain", t("Сеть", "Chain"), 20),
    Option("distributor", t("Дистрибьютор", "Distributor"), 30),
    Option("horeca", t("HoReCa", "HoReCa"), 40),
    Option("other", t("Другое", "Other"), 50),
)


def _nps(code: str, ru: str, en: str) -> FieldSpec:
    return FieldSpec(code, "deal", "integer", t(ru, en))


# The four qualification fields are mandatory for the business, not at portal level: a
# portal-level MANDATORY flag would make every company add (imports, other playbooks'
# automation) fail without them. No rule blocks a deal without them; the default checklist
# of «Выявление потребностей» (setting ``stage_checklists``) asks the manager to fill them.
FIELDS = (
    FieldSpec(
        "UF_CRM_B2B_AUDIENCE",
        "company",
        "string",
        t("Целевая аудитория", "Target audience"),
    ),
    FieldSpec("UF_CRM_B2B_GEO", "company", "string", t("География", "Geography")),
    FieldSpec("UF_CRM_B2B_VOLUME", "company", "double", t("Объём заказа", "Order volume")),
    FieldSpec(
        "UF_CRM_B2B_BUSINESS",
        "company",
        "enumeration",
        t("Тип бизнеса", "Business type"),
        options=BUSINESS_TYPES,
    ),
    FieldSpec(
        "UF_CRM_B2B_REORDER_DAYS",
        "company",
        "integer",
        t("Интервал дозаказа, дней", "Reorder interval, days"),
    ),
    FieldSpec(
        "UF_CRM_B2B_REORDER_CALC",
        "company",
        "integer",
        t("Интервал дозаказа (расчёт), дней", "Reorder interval (computed), days"),
    ),
    FieldSpec("UF_CRM_B2B_SAMPLE_PHOTO", "deal", "file", t("Фото образца", "Sample photo")),
    FieldSpec(
        "UF_CRM_B2B_DEFERRAL_DAYS",
        "deal",
        "integer",
        t("Отсрочка платежа, дней", "Payment deferral, days"),
    ),
    _nps("UF_CRM_B2B_NPS_DELIVERY", "NPS: доставка", "NPS: delivery"),
    _nps("UF_CRM_B2B_NPS_PACKAGING", "NPS: упаковка", "NPS: packaging"),
    _nps("UF_CRM_B2B_NPS_SHELF", "NPS: срок годности", "NPS: shelf life"),
    _nps("UF_CRM_B2B_NPS_SCORE", "NPS: оценка 0–10", "NPS: score 0–10"),
)

LEAD_STAGES = (
    stage("b2b.lead.new", "NEW", "Новый лид", "New lead", color=BLUE),
    stage("b2b.lead.qualifying", "B2B_QUALIFY", "Квалификация", "Qualifying", color=CYAN),
    stage("b2b.lead.converted", "CONVERTED", "Передан в продажи", "Handed to sales", "S", GREEN),
    stage("b2b.lead.not_target", "B2B_NOT_TARGET", "Нецелевой", "Not a target client", "F", RED),
)

SALES = PipelineSpec(
    "b2b.sales",
    t("Продажи B2B", "B2B sales"),
    (
        stage("b2b.sales.new", "NEW", "Новый клиент", "New client", color=BLUE),
        stage("b2b.sales.needs", "NEEDS", "Выявление потребностей", "Needs", color=CYAN),
        stage("b2b.sales.offer", "OFFER", "Коммерческое предложение", "Offer", color=TEAL),
        stage("b2b.sales.invoice", "INVOICE", "Счёт выставлен", "Invoice", color=YELLOW),
        stage("b2b.sales.shipment", "SHIPMENT", "Отгрузка", "Shipment", color=ORANGE),
        stage("b2b.sales.won", "WON", "Первая поставка", "First delivery", "S", GREEN),
        stage("b2b.sales.lost", "LOSE", "Клиент потерян", "Client lost", "F", RED),
    ),
    sort=520,
)
REPEAT = PipelineSpec(
    "b2b.repeat",
    t("Повторные продажи", "Repeat sales"),
    (
        stage("b2b.repeat.planned", "NEW", "Дозаказ запланирован", "Reorder planned", color=BLUE),
        stage("b2b.repeat.contacted", "CONTACTED", "Связались", "Contacted", color=CYAN),
        stage("b2b.repeat.invoice", "INVOICE", "Счёт выставлен", "Invoice", color=YELLOW),
        stage("b2b.repeat.won", "WON", "Отгружено", "Shipped", "S", GREEN),
        stage("b2b.repeat.lost", "LOSE", "Клиент потерян", "Client lost", "F", RED),
    ),
    sort=530,
)
COLD = PipelineSpec(
    "b2b.cold",
    t("Холодные продажи", "Cold sales"),
    (
        stage("b2b.cold.new", "NEW", "Новая точка", "New outlet", color=BLUE),
        stage("b2b.cold.meeting", "MEETING", "Встреча", "Meeting", color=CYAN),
        stage("b2b.cold.sample", "SAMPLE", "Образец передан", "Sample handed over", color=TEAL),
        stage("b2b.cold.order", "ORDER", "Первый заказ", "First order", color=YELLOW),
        stage("b2b.cold.won", "WON", "Клиент привлечён", "Client won", "S", GREEN),
        stage("b2b.cold.lost", "LOSE", "Отказ", "Refused", "F", RED),
    ),
    sort=540,
)

# Stage → the task with a checklist its responsible gets on entering it (rules_stage_tasks).
DEFAULT_CHECKLISTS = {
    "b2b.sales.needs": {
        "title": "Выявить потребности клиента «{title}»",
        "items": [
            "Заполнить в компании: целевая аудитория, география, объём заказа, тип бизнеса",
            "Узнать ассортимент и объёмы закупок",
            "Договориться о коммерческом предложении",
        ],
    },
    "b2b.sales.offer": {
        "title": "Коммерческое предложение «{title}»",
        "items": ["Подготовить КП под потребности клиента", "Отправить КП", "Назначить созвон"],
    },
    "b2b.sales.invoice": {
        "title": "Счёт по сделке «{title}»",
        "items": ["Выставить счёт", "Указать отсрочку платежа", "Проверить оплату"],
    },
    "b2b.sales.shipment": {
        "title": "Отгрузка «{title}»",
        "items": ["Согласовать дату и адрес доставки", "Передать заказ на склад"],
    },
    "b2b.cold.meeting": {
        "title": "Встреча с точкой «{title}»",
        "items": ["Провести встречу с ЛПР", "Передать образец", "Прикрепить фото образца"],
    },
    "b2b.cold.sample": {
        "title": "Отзыв об образце «{title}»",
        "items": ["Узнать отзыв об образце", "Предложить первый заказ"],
    },
    "b2b.cold.order": {
        "title": "Первый заказ «{title}»",
        "items": ["Оформить первый заказ", "Заполнить карточку компании"],
    },
}

PLAYBOOK = Playbook(
    name="b2b",
    title=t("B2B-дистрибуция", "B2B distribution"),
    fields=FIELDS,
    lead_stages=LEAD_STAGES,
    pipelines=(SALES, REPEAT, COLD),
    robots=("next_step_guard",),
    widgets=(WidgetSpec("b2b_reports", "CRM_ANALYTICS_MENU", t("Отчёты B2B", "B2B reports")),),
    events=(*crm_events("LEAD", "DEAL", "CONTACT", "COMPANY"), *crm_events("ACTIVITY")),
    settings=(
        SettingSpec(
            "reorder_days_by_business",
            "table",
            {"retail": 14, "chain": 30, "distributor": 45},
            t("Интервал дозаказа по типу бизнеса", "Reorder interval per business type"),
        ),
        SettingSpec(
            "reorder_geo_factors",
            "table",
            {},
            t("Интервал дозаказа: поправка по географии", "Reorder interval: geography factors"),
        ),
        SettingSpec(
            "reorder_audience_factors",
            "table",
            {},
            t("Интервал дозаказа: поправка по аудитории", "Reorder interval: audience factors"),
        ),
        SettingSpec(
            "default_followup_hours",
            "hours",
            24,
            t("Задача-продолжение через, ч", "Default follow-up, hours"),
        ),
        SettingSpec(
            "reorder_todo_text",
            "str",
            "Дозаказ: связаться с клиентом «{name}»",
            t("Дело «дозаказ» ({name} — клиент)", "Reorder to-do ({name}: the client)"),
        ),
        SettingSpec(
            "why_lost_todo_text",
            "str",
            "Выяснить причину ухода клиента: {name}",
            t("Дело «причина ухода» ({name} — сделка)", "Why-lost to-do ({name}: the deal)"),
        ),
        SettingSpec(
            "no_next_step_text",
            "str",
            "Сделка «{title}» осталась без следующего шага: запланировано дело «Следующий шаг» "
            "— уточните его или запланируйте своё.",
            t("Текст: сделка без следующего шага", "Text: deal without a next step"),
        ),
        SettingSpec(
            "next_step_required_text",
            "str",
            "Сделка «{title}» не переведена дальше: нет запланированного дела (следующего "
            "шага). Запланируйте звонок, встречу или задачу и переведите сделку снова.",
            t("Нет следующего шага: текст", "No next step: text"),
        ),
        SettingSpec(
            "nps_delay_days", "days", 3, t("Опрос NPS через, дней", "NPS survey after, days")
        ),
        SettingSpec(
            "nps_survey_text",
            "str",
            "Спасибо за первый заказ «{title}»! Оцените, пожалуйста, от 0 до 10: доставку, "
            "упаковку и срок годности товара, и насколько вероятно, что вы порекомендуете нас.",
            t("Опрос NPS: текст клиенту", "NPS survey: text to the client"),
        ),
        SettingSpec(
            "nps_todo_text",
            "str",
            "Опрос после первой поставки «{title}»: записать оценки клиента в поля NPS",
            t("Опрос NPS: дело менеджеру", "NPS survey: to-do for the manager"),
        ),
        SettingSpec(
            "stage_checklists",
            "table",
            DEFAULT_CHECKLISTS,
            t("Чек-листы по стадиям", "Checklists per stage"),
        ),
        *role_settings(),
        *calendar_settings(),
    ),
)
