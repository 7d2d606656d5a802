"""`furniture` — furniture maker with own stores and dealers (seed 000). Data only."""

from __future__ import annotations

from app.playbooks.common import (
    BLUE,
    CYAN,
    GREEN,
    RED,
    TEAL,
    YELLOW,
    calendar_settings,
    crm_events,
    lead_claim_settings,
    role_settings,
    t,
)
from app.playbooks.schema import FieldSpec, Option, PipelineSpec, Playbook, SettingSpec, stage

REFUSALS = (
    Option("price", t("Цена", "Price"), 10),
    Option("terms", t("Сроки", "Lead time"), 20),
    Option("competitor", t("Выбрал конкурента", "Chose a competitor"), 30),
    Option("spam", t("Спам / ошибка", "Spam / error"), 40),
    Option("other", t("Другое", "Other"), 50),
)

# «сфера интереса» (seed 000): the kind of furniture the client is after, beside the item.
SPHERES = (
    Option("kitchen", t("Кухня", "Kitchen"), 10),
    Option("bedroom", t("Спальня", "Bedroom"), 20),
    Option("living", t("Гостиная", "Living room"), 30),
    Option("children", t("Детская", "Children's room"), 40),
    Option("hallway", t("Прихожая", "Hallway"), 50),
    Option("office", t("Офис / кабинет", "Office / study"), 60),
    Option("bathroom", t("Ванная", "Bathroom"), 70),
    Option("other", t("Другое", "Other"), 80),
)

FIELDS = (
    FieldSpec("UF_CRM_FR_CITY", "lead", "string", t("Город клиента", "Client city")),
    FieldSpec("UF_CRM_FR_STORE", "lead", "string", t("Магазин", "Store")),
    FieldSpec("UF_CRM_FR_INTEREST", "lead", "string", t("Предмет интереса", "Subject of interest")),
    FieldSpec(
        "UF_CRM_FR_SPHERE",
        "lead",
        "enumeration",
        t("Сфера интереса", "Furniture kind of interest"),
        multiple=True,
        options=SPHERES,
    ),
    # Installed by earlier versions as «сфера интереса»; kept as it is so existing portals
    # keep their values (the sphere is UF_CRM_FR_SPHERE above). No rule reads it.
    FieldSpec("UF_CRM_FR_ROOM_AREA", "lead", "double", t("Площадь помещения, м²", "Room area, m²")),
    FieldSpec("UF_CRM_FR_VISIT_DATE", "lead", "date", t("Дата визита", "Visit date")),
    FieldSpec(
        "UF_CRM_FR_REFUSAL",
        "lead",
        "enumeration",
        t("Причина отказа", "Refusal reason"),
        options=REFUSALS,
    ),
    FieldSpec(
        "UF_CRM_FR_DUE_DATE", "deal", "date", t("Срок изготовления", "Manufacturing due date")
    ),
    FieldSpec(
        "UF_CRM_FR_DELIVERED_AT", "deal", "date", t("Дата доставки/выдачи", "Delivered / picked up")
    ),
    FieldSpec(
        "UF_CRM_FR_REFUSAL",
        "deal",
        "enumeration",
        t("Причина отказа", "Refusal reason"),
        options=REFUSALS,
    ),
)

# Reclamations (seed 000: «выделили две воронки: продажи и рекламации»): the sale it is
# about, and why a rejected one was rejected (rules_reclamations)
FIELDS = (
    *FIELDS,
    FieldSpec(
        "UF_CRM_FR_ORIGINAL_DEAL",
        "deal",
        "crm",
        t("Исходная сделка (продажа)", "Original sale"),
        settings={"DEAL": "Y"},
    ),
    FieldSpec(
        "UF_CRM_FR_RECL_REASON",
        "deal",
        "string",
        t("Причина отклонения рекламации", "Reclamation rejection reason"),
    ),
)

LEAD_STAGES = (
    stage("furniture.lead.new", "NEW", "Новый лид", "New", color=BLUE),
    stage(
        "furniture.lead.visited",
        "FR_VISITED",
        "Клиент пришёл в магазин",
        "Came to the store",
        color=CYAN,
    ),
    stage(
        "furniture.lead.order_form",
        "FR_ORDER_FORM",
        "Заполнен бланк заказа",
        "Order form filled",
        color=TEAL,
    ),
    stage("furniture.lead.contract", "CONVERTED", "Заключение договора", "Contract", "S", GREEN),
    stage(
        "furniture.lead.not_returned",
        "FR_NOT_BACK",
        "Не вернулся после визита в магазин",
        "Did not come back",
        "F",
        RED,
    ),
    stage("furniture.lead.low_quality", "JUNK", "Некачественный лид", "Low quality", "F", RED),
)

SALES = PipelineSpec(
    "furniture.sales",
    t("Продажи мебели", "Furniture sales"),
    (
        stage("furniture.deal.new", "NEW", "Новая сделка", "New deal", color=BLUE),
        stage(
            "furniture.deal.contract", "CONTRACT", "Договор оформлен", "Contract signed", color=CYAN
        ),
        stage(
            "furniture.deal.manufacturing",
            "MANUFACTURING",
            "Изготовление",
            "Manufacturing",
            color=YELLOW,
        ),
        stage("furniture.deal.in_store", "IN_STORE", "Товар в магазине", "In store", color=TEAL),
        stage(
            "furniture.deal.delivery", "DELIVERY", "Доставка/Оплата", "Delivery/payment", color=BLUE
        ),
        stage("furniture.deal.won", "WON", "Сделка успешна", "Deal won", "S", GREEN),
        stage("furniture.deal.lost", "LOSE", "Сделка сорвана", "Deal lost", "F", RED),
    ),
)

RECLAMATIONS = PipelineSpec(
    "furniture.reclamations",
    t("Рекламации", "Reclamations"),
    (
        stage("furniture.reclamation.received", "NEW", "Получена", "Received", color=BLUE),
        stage(
            "furniture.reclamation.review",
            "REVIEW",
            "На рассмотрении",
            "Under review",
            color=YELLOW,
        ),
        stage("furniture.reclamation.resolved", "WON", "Решена", "Resolved", "S", GREEN),
        stage("furniture.reclamation.rejected", "LOSE", "Отклонена", "Rejected", "F", RED),
    ),
    sort=510,
)

PLAYBOOK = Playbook(
    name="furniture",
    title=t("Мебельная сеть", "Furniture stores"),
    fields=FIELDS,
    lead_stages=LEAD_STAGES,
    pipelines=(SALES, RECLAMATIONS),
    robots=("handoff_to_store",),
    events=crm_events("LEAD", "DEAL", "CONTACT"),
    settings=(
        *lead_claim_settings("line:"),
        SettingSpec(
            "city_admins",
            "table",
            {},
            t("Город → администратор магазина", "City → store administrator"),
        ),
        SettingSpec(
            "handoff_text",
            "str",
            "Клиент придёт в магазин {visit} (город «{city}»): лид «{title}» передан вам. "
            "Сфера интереса: {sphere}; предмет: {interest}.",
            t("Текст администратору при передаче", "Text to the store administrator"),
        ),
        SettingSpec(
            "no_admin_text",
            "str",
            "Лид «{title}»: нет администратора магазина для города «{city}» — передайте лид "
            "вручную или дополните таблицу городов.",
            t("Текст: нет администратора для города", "Text: no store administrator"),
        ),
        SettingSpec(
            "refusal_required_text",
            "str",
            "{record} «{title}» не закрыт как {stage}: не указана «Причина отказа». Заполните "
            "причину и закройте снова.",
            t("Текст: закрытие без причины отказа", "Text: closed without a reason"),
        ),
        SettingSpec(
            "store_managers", "table", {}, t("Магазин → заведующий", "Store → store manager")
        ),
        SettingSpec(
            "escalation_remind_text",
            "str",
            "Свяжитесь с клиентом по лиду «{title}»",
            t("Напоминание администратору", "Reminder to the store administrator"),
        ),
        SettingSpec(
            "escalation_manager_text",
            "str",
            "Администратор не связался с клиентом по лиду «{title}»",
            t("Сообщение заведующему", "Notice to the store manager"),
        ),
        SettingSpec(
            "escalate_after_hours", "hours", 3, t("Эскалация через, ч", "Escalate after, hours")
        ),
        SettingSpec(
            "return_window_days",
            "days",
            30,
            t("Ждать возврата клиента, дней", "Return window, days"),
        ),
        SettingSpec(
            "reminder_cadence_days",
            "table",
            [3, 10, 20],
            t("Напоминания, дни", "Reminder cadence, days"),
        ),
        SettingSpec(
            "reminder_texts",
            "table",
            [
                "Спасибо, что заглянули в наш магазин! Подобранная вами мебель ждёт вас — "
                "приходите, поможем с выбором.",
                "Для вас действует спецпредложение: скидка на сборку и доставку при заказе в "
                "этом месяце. Ждём вас в магазине!",
                "Напоминаем: условия спецпредложения действуют до конца месяца. Будем рады "
                "видеть вас снова!",
            ],
            t("Тексты напоминаний и акций (по порядку)", "Reminder and offer texts, in order"),
        ),
        SettingSpec(
            "online_consultant_id",
            "int",
            0,
            t(
                "Онлайн-консультант (ID): лиды из чата, форм и почты",
                "Online consultant id: leads from chat, forms and mail",
            ),
        ),
        SettingSpec(
            "sms_before_due_days", "days", 7, t("SMS до срока, дней", "SMS before due date, days")
        ),
        SettingSpec(
            "auto_win_after_days",
            "days",
            3,
            t("Успех после доставки, дней", "Auto-win after delivery, days"),
        ),
        SettingSpec(
            "auto_win_no_date_text",
            "str",
            "Сделка «{title}» в «Доставка/Оплата»: заполните «Дата доставки/выдачи» — через "
            "{days} дн. после неё сделка закроется как успешная.",
            t("Нет даты доставки: текст сотруднику", "No delivery date: text to staff"),
        ),
        SettingSpec(
            "due_delay_sms",
            "str",
            "Ваш заказ «{title}» ещё изготавливается и может не успеть к сроку {due}. "
            "Приносим извинения — мы сообщим, как только он будет в магазине.",
            t("SMS: изготовление отстаёт", "SMS: manufacturing is behind"),
        ),
        SettingSpec(
            "due_moved_sms",
            "str",
            "Срок изготовления вашего заказа «{title}» перенесён с {old_due} на {due}. "
            "Приносим извинения за задержку.",
            t("SMS: срок изготовления перенесён", "SMS: due date moved"),
        ),
        SettingSpec(
            "in_store_sms",
            "str",
            "Ваш товар в магазине и готов к выдаче",
            t("SMS «товар в магазине»", "In-store SMS"),
        ),
        SettingSpec(
            "remind_after_hours",
            "hours",
            1,
            t("Напомнить администратору через, ч", "Remind store admin after, hours"),
        ),
        SettingSpec(
            "escalation_working_hours",
            "bool",
            False,
            t("Эскалация в рабочих часах", "Escalation counts working hours"),
        ),
        SettingSpec(
            "reclamation_stages",
            "table",
            {
                "furniture.reclamation.received": {"hours": 24, "owner": 0},
                "furniture.reclamation.review": {"hours": 72, "owner": 0},
            },
            t("Рекламации: срок (ч) и ответственный по стадиям", "Reclamations: hours and owner"),
        ),
        SettingSpec(
            "reclamation_received_text",
            "str",
            "Мы получили вашу рекламацию №{id} и рассмотрим её в ближайшее время.",
            t("Клиенту: рекламация получена", "Client: reclamation received"),
        ),
        SettingSpec(
            "reclamation_resolved_text",
            "str",
            "Ваша рекламация №{id} решена. Спасибо за терпение!",
            t("Клиенту: рекламация решена", "Client: reclamation resolved"),
        ),
        SettingSpec(
            "reclamation_channel", "str", "sms", t("Канал сообщений о рекламации", "Channel")
        ),
        *role_settings(),
        *calendar_settings(),
    ),
)
