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
    lead_claim_settings,
    role_settings,
    t,
)
from app.playbooks.schema import (
    EventSpec,
    FieldSpec,
    Option,
    PipelineSpec,
    Playbook,
    SettingSpec,
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
# automation) fail without them. The b2b stage gate (rules_stage_gate) enforces them where
# the deal moves on.
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
    # payment control and the deferrals/debts report (seed 003 §3.5)
    FieldSpec("UF_CRM_B2B_PAY_DUE", "deal", "date", t("Оплатить до", "Payment due")),
    FieldSpec("UF_CRM_B2B_PAID", "deal", "double", t("Оплачено", "Amount paid")),
    _nps("UF_CRM_B2B_NPS_DELIVERY", "NPS: доставка", "NPS: delivery"),
    _nps("UF_CRM_B2B_NPS_PACKAGING", "NPS: упаковка", "NPS: packaging"),
    _nps("UF_CRM_B2B_NPS_SHELF", "NPS: срок годности", "NPS: shelf life"),
    _nps("UF_CRM_B2B_NPS_SCORE", "NPS: оценка 0–10", "NPS: score 0–10"),
    FieldSpec("UF_CRM_B2B_NPS_COMMENT", "deal", "string", t("NPS: комментарий", "NPS: comment")),
    # the client's last survey answers, on the contact too (seed 003: NPS per client)
    FieldSpec("UF_CRM_B2B_NPS_DELIVERY", "contact", "integer", t("NPS: доставка", "NPS: delivery")),
    FieldSpec(
        "UF_CRM_B2B_NPS_PACKAGING", "contact", "integer", t("NPS: упаковка", "NPS: packaging")
    ),
    FieldSpec(
        "UF_CRM_B2B_NPS_SHELF", "contact", "integer", t("NPS: срок годности", "NPS: shelf life")
    ),
    FieldSpec("UF_CRM_B2B_NPS_COMMENT", "contact", "string", t("NPS: комментарий", "NPS: comment")),
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

PLAYBOOK = Playbook(
    name="b2b",
    title=t("B2B-дистрибуция", "B2B distribution"),
    fields=FIELDS,
    lead_stages=LEAD_STAGES,
    pipelines=(SALES, REPEAT, COLD),
    robots=("next_step_guard",),
    # no page of its own: its reports are on the app's «Отчёты» page (app.widgets.reports);
    # the old «Отчёты B2B» item is unbound on update as a stale binding (plan_stale_widgets)
    # ONTASKUPDATE: a closed stage task creates the next (rules_stage_tasks)
    events=(
        *crm_events("LEAD", "DEAL", "CONTACT", "COMPANY"),
        *crm_events("ACTIVITY"),
        EventSpec("ONTASKUPDATE"),
        EventSpec("ONTASKDELETE"),
    ),
    settings=(
        *lead_claim_settings(),
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
            "nps_link_days",
            "days",
            14,
            t("Ссылка на опрос действует, дней", "Survey link valid, days"),
        ),
        SettingSpec(
            "nps_channel", "str", "email", t("Канал опроса (email/sms/messenger)", "Survey channel")
        ),
        SettingSpec(
            "nps_subject",
            "str",
            "Оцените, пожалуйста, первую поставку",
            t("Тема сообщения с опросом", "Survey message subject"),
        ),
        SettingSpec(
            "nps_text",
            "str",
            "Спасибо за первый заказ! Оцените, пожалуйста, доставку, упаковку и сроки годности "
            "— это займёт минуту: {url}",
            t("Текст сообщения с опросом ({url}, {title})", "Survey message text"),
        ),
        SettingSpec(
            "nps_low_score",
            "int",
            6,
            t("Низкая оценка: не выше (задача руководителю)", "Low score: at most"),
        ),
        SettingSpec(
            "stage_checklists",
            "table",
            {},
            t("Чек-листы по шагам (замена чек-листа шага)", "Checklists per step"),
        ),
        SettingSpec(
            "stage_tasks",
            "table",
            {},
            t("Автозадачи по шагам (название, дни, чек-лист, следующий шаг)", "Stage tasks"),
        ),
        SettingSpec(
            "stage_required_fields",
            "table",
            {},
            t("Обязательные поля по стадиям", "Required fields per stage"),
        ),
        *role_settings(),
        *calendar_settings(),
    ),
)
