"""`kitchens` — kitchen-furniture store, "ready CRM" (seed 002). Data only."""

from __future__ import annotations

from app.playbooks.common import (
    BLUE,
    CYAN,
    GREEN,
    ORANGE,
    PURPLE,
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
    Playbook,
    SettingSpec,
    WidgetSpec,
    stage,
)


def _opts(*pairs: tuple[str, str, str]) -> tuple[Option, ...]:
    return tuple(Option(code, t(ru, en), 10 * (i + 1)) for i, (code, ru, en) in enumerate(pairs))


FIELDS = (
    FieldSpec("UF_CRM_KT_BUDGET", "lead", "double", t("Бюджет", "Budget")),
    FieldSpec(
        "UF_CRM_KT_MATERIAL",
        "lead",
        "enumeration",
        t("Материал фасадов", "Front material"),
        options=_opts(
            ("mdf", "МДФ", "MDF"),
            ("wood", "Массив", "Solid wood"),
            ("plastic", "Пластик", "Plastic"),
            ("other", "Другое", "Other"),
            ("chipboard", "ЛДСП", "Chipboard"),
            ("enamel", "Эмаль", "Enamel"),
        ),
    ),
    FieldSpec("UF_CRM_KT_ADDRESS", "lead", "string", t("Адрес объекта", "Site address")),
    FieldSpec(
        "UF_CRM_KT_HOUSE_TYPE",
        "lead",
        "enumeration",
        t("Тип дома", "House type"),
        options=_opts(
            ("new", "Новостройка", "New build"),
            ("secondary", "Вторичное жильё", "Resale"),
            ("private", "Частный дом", "Private house"),
            ("dacha", "Дача", "Country cottage"),
        ),
    ),
    FieldSpec(
        "UF_CRM_KT_KITCHEN_TYPE",
        "lead",
        "enumeration",
        t("Конфигурация кухни", "Kitchen layout"),
        options=_opts(
            ("straight", "Прямая", "Straight"),
            ("corner", "Угловая", "Corner"),
            ("u", "П-образная", "U-shaped"),
            ("island", "С островом", "Island"),
        ),
    ),
    FieldSpec(
        "UF_CRM_KT_COUNTERTOP", "lead", "string", t("Материал столешницы", "Countertop material")
    ),
    FieldSpec("UF_CRM_KT_APRON", "lead", "string", t("Фартук", "Apron")),
    FieldSpec(
        "UF_CRM_KT_APPLIANCES", "lead", "string", t("Встроенная техника", "Built-in appliances")
    ),
    FieldSpec(
        "UF_CRM_KT_BUYER",
        "lead",
        "enumeration",
        t("Категория покупателя", "Buyer category"),
        options=_opts(
            ("self", "Для себя", "For self"),
            ("rent", "Для сдачи в аренду", "For rent"),
            ("designer", "Дизайнер или прораб", "Designer or foreman"),
            ("developer", "Застройщик", "Developer"),
        ),
    ),
    FieldSpec(
        "UF_CRM_KT_URGENCY",
        "lead",
        "enumeration",
        t("Срочность", "Urgency"),
        options=_opts(
            ("now", "Срочно, до месяца", "Within a month"),
            ("month", "1–3 месяца", "1–3 months"),
            ("later", "Более 3 месяцев", "Over 3 months"),
            ("browsing", "Просто смотрю", "Just looking"),
        ),
    ),
    FieldSpec(
        "UF_CRM_KT_ABC",
        "lead",
        "enumeration",
        t("Класс ABC", "ABC class"),
        options=_opts(("A", "A", "A"), ("B", "B", "B"), ("C", "C", "C")),
    ),
    FieldSpec("UF_CRM_KT_EXPECTED_SUM", "lead", "double", t("Ожидаемая сумма", "Expected sum")),
    FieldSpec(
        "UF_CRM_KT_MEASURE_AT", "lead", "datetime", t("Замер: дата и время", "Measurement time")
    ),
    FieldSpec("UF_CRM_KT_MEASURER", "lead", "employee", t("Замерщик", "Measurer")),
    FieldSpec(
        "UF_CRM_KT_MEASURE_OK", "lead", "boolean", t("Замер подтверждён", "Measurement confirmed")
    ),
    FieldSpec(
        "UF_CRM_KT_WISHES",
        "lead",
        "string",
        t("Особые пожелания заказчика", "Client's special wishes"),
        settings={"ROWS": 3},
    ),
    FieldSpec(
        "UF_CRM_KT_NEXT_CONTACT", "lead", "date", t("Дата следующего контакта", "Next contact date")
    ),
    FieldSpec("UF_CRM_KT_LOST_REASON", "lead", "string", t("Причина неуспеха", "Lost reason")),
)

# The agreed lead's fields are copied to its deal (rule 11): the deal carries the same codes.
FIELDS = (
    *FIELDS,
    *(
        FieldSpec(f.code, "deal", f.type, f.label, options=f.options)
        for f in FIELDS
        if f.code not in ("UF_CRM_KT_NEXT_CONTACT", "UF_CRM_KT_LOST_REASON", "UF_CRM_KT_MEASURE_OK")
    ),
)

LEAD_STAGES = (
    stage("kitchens.lead.unprocessed", "NEW", "Не обработан", "Unprocessed", color=BLUE),
    stage(
        "kitchens.lead.assigned", "KT_ASSIGNED", "Менеджер назначен", "Manager assigned", color=CYAN
    ),
    stage("kitchens.lead.qualified", "KT_QUALIFIED", "Клиент наш", "Qualified", color=TEAL),
    stage(
        "kitchens.lead.proposal",
        "KT_PROPOSAL",
        "Каталог и КП отправлены",
        "Proposal sent",
        color=YELLOW,
    ),
    stage(
        "kitchens.lead.measurement",
        "KT_MEASURE",
        "Замер назначен",
        "Measurement booked",
        color=ORANGE,
    ),
    stage(
        "kitchens.lead.next_contact",
        "KT_NEXT_CALL",
        "Дата следующего контакта",
        "Next-contact date",
        color=PURPLE,
    ),
    stage("kitchens.lead.agreed", "CONVERTED", "Ура, согласие получено", "Agreed", "S", GREEN),
    stage("kitchens.lead.lost", "KT_LOST", "Не успешный", "Lost", "F", RED),
)

# The work plan's task texts per step (rules_workplan: the working days stay code): the
# defaults of the ``stage_tasks`` setting, so a portal sees and rewords today's texts.
WORK_PLAN_TEXTS = {
    "proposal": {
        "title": "Подготовить и отправить каталог и КП",
        "checklist": [
            "Подобрать каталог по ответам клиента",
            "Подготовить КП",
            "Отправить каталог и КП",
        ],
    },
    "followup": {
        "title": "Перезвонить клиенту по КП",
        "checklist": ["Узнать впечатления от КП", "Ответить на вопросы", "Предложить замер"],
    },
    "confirm": {
        "title": "Подтвердить замер с клиентом",
        "checklist": ["Позвонить клиенту", "Подтвердить время"],
    },
    "measurer": {
        "title": "Замер",
        "checklist": [
            "Позвонить клиенту за час до приезда",
            "Сделать замер",
            "Сделать дизайн-проект",
            "Составить полную смету",
        ],
    },
    "final": {
        "title": "Финальное КП после замера",
        "checklist": [
            "Согласовать дизайн-проект",
            "Отправить финальное КП",
            "Получить согласие клиента",
        ],
    },
    "next_contact": {
        "title": "Связаться с клиентом в назначенную дату",
        "checklist": ["Позвонить клиенту"],
    },
}
# What the error control tells the manager before the list of gaps (rules_control).
CONTROL_RETURNED_TEXT = "Лид «{title}» возвращён на прежнюю стадию: "

PLAYBOOK = Playbook(
    name="kitchens",
    title=t("Кухни", "Kitchens"),
    fields=FIELDS,
    lead_stages=LEAD_STAGES,
    # Booking is the widget's HTTP API (app.handlers.booking), not a robot: a robot's run is
    # pure, a booking reserves in the store.
    robots=("abc_score",),
    widgets=(
        WidgetSpec("measurement", "CRM_LEAD_DETAIL_TAB", t("Замер", "Measurement")),
        # training mode: the current stage's hint (app/widgets/training.py)
        WidgetSpec("training", "CRM_LEAD_DETAIL_TAB", t("Что сделать сейчас", "What to do now")),
    ),
    # Tasks: closing one creates the next (rules_tasks). ONTASKADD is not needed — the app
    # mirrors the tasks it creates when it creates them.
    events=(
        *crm_events("LEAD", "DEAL", "CONTACT"),
        *crm_events("ACTIVITY", delete=False),
        EventSpec("ONTASKUPDATE"),
        EventSpec("ONTASKDELETE"),
    ),
    settings=(
        *lead_claim_settings("CALL"),
        SettingSpec(
            "sos_interval_minutes", "minutes", 15, t("Интервал SOS, мин", "SOS interval, minutes")
        ),
        SettingSpec(
            "sos_audience",
            "table",
            ["sales", "head_of_sales", "ceo"],
            t("Круги SOS", "SOS audience"),
        ),
        SettingSpec("abc_weights", "table", {}, t("Веса ABC", "ABC weights")),
        SettingSpec(
            "abc_thresholds", "table", {"A": 0.7, "B": 0.4}, t("Пороги ABC", "ABC thresholds")
        ),
        SettingSpec(
            "abc_title_template",
            "str",
            "{class} {coefficients} · {kitchen_type} · {client}",
            t("Название лида после ABC", "Lead title after ABC scoring"),
        ),
        SettingSpec("abc_model", "table", {}, t("Модель ABC (пусто — стандартная)", "ABC model")),
        SettingSpec(
            "measurement_hours",
            "hours",
            3,
            t("Длительность замера, ч", "Measurement length, hours"),
        ),
        SettingSpec("measurer_user_ids", "table", [], t("Замерщики (ID)", "Measurer user ids")),
        SettingSpec(
            "confirm_before_hours",
            "hours",
            24,
            t("Подтвердить замер за, ч", "Confirm measurement before, hours"),
        ),
        SettingSpec(
            "sos_announce_text",
            "str",
            "Новый лид «{title}»: возьмите его в работу",
            t("Объявление о новом лиде", "New lead announcement"),
        ),
        SettingSpec(
            "sos_text",
            "str",
            "SOS: лид «{title}» не обработан уже {minutes} мин",
            t("SOS-оповещение ({minutes} — минут без ответа)", "SOS alert ({minutes}: waiting)"),
        ),
        SettingSpec(
            "measurer_call_before_minutes",
            "minutes",
            60,
            t("Напомнить замерщику позвонить за, мин", "Remind the measurer to call, minutes"),
        ),
        SettingSpec(
            "measurer_call_text",
            "str",
            "Через час замер «{title}» ({date} в {time}, {address}): позвоните клиенту "
            "{phone} и предупредите о приезде. Пожелания заказчика: {wishes}.",
            t("Напоминание замерщику", "Reminder to the measurer"),
        ),
        SettingSpec(
            "measurer_arrival_text",
            "str",
            "Замерщик приедет к вам {date} в {time} по адресу {address}. "
            "Если планы изменились, пожалуйста, позвоните нам.",
            t(
                "Клиенту: замерщик в пути (пусто — не отправлять)",
                "To the client: measurer arrival",
            ),
        ),
        SettingSpec(
            "final_task_reopen_text",
            "str",
            "Задача «Финальное КП» по лиду «{lead}» закрыта без результата. Она закрывается, "
            "только когда лид согласован, отказался (с причиной) или поставлен на паузу — "
            "задача поставлена снова.",
            t("Финальное КП закрыто без результата: текст", "Final proposal closed early: text"),
        ),
        SettingSpec(
            "pause_sms",
            "str",
            "Спасибо! Мы свяжемся с вами {date}. Замер: {measurement}.",
            t("SMS: пауза (даты звонка и замера)", "SMS: pause (call and measurement dates)"),
        ),
        SettingSpec(
            "pause_no_measurement_text",
            "str",
            "дату согласуем во время звонка",
            t("Пауза без даты замера: текст", "Pause without a measurement date: text"),
        ),
        SettingSpec(
            "measurement_confirmed_sms",
            "str",
            "Замер кухни подтверждён: {date} в {time}, адрес: {address}. Замерщик позвонит за "
            "час до приезда.",
            t("SMS: замер подтверждён", "SMS: measurement confirmed"),
        ),
        SettingSpec(
            "followup_working_days",
            "int",
            2,
            t("Перезвонить после КП, раб. дней", "Follow up after proposal, working days"),
        ),
        SettingSpec(
            "stage_checklists", "table", {}, t("Чек-листы по стадиям", "Checklists per stage")
        ),
        SettingSpec(
            "stage_tasks",
            "table",
            WORK_PLAN_TEXTS,
            t(
                "Автозадачи по шагам: название и чек-лист ({шаг: {title, checklist}})",
                "Work plan tasks: title and checklist per step",
            ),
        ),
        SettingSpec(
            "control_returned_text",
            "str",
            CONTROL_RETURNED_TEXT,
            t(
                "Контроль ошибок: начало сообщения менеджеру ({title}; дальше — что исправить)",
                "Error control: the message to the manager ({title}; the gaps follow)",
            ),
        ),
        SettingSpec(
            "sos_pool_user_ids", "table", [], t("Кто разбирает лиды (ID)", "SOS pool user ids")
        ),
        SettingSpec(
            "training_mode", "bool", False, t("Режим обучения (подсказки в лиде)", "Training mode")
        ),
        SettingSpec("training_hints", "table", {}, t("Подсказки по стадиям", "Hints per stage")),
        SettingSpec(
            "training_links", "table", {}, t("Ссылки на инструкции по стадиям", "Links per stage")
        ),
        *role_settings(),
        *calendar_settings(),
    ),
)
