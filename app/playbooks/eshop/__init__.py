"""`eshop` — online store order processing (seed 004). Data only."""

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

REFUSALS = (
    Option("changed_mind", t("Передумал", "Changed mind"), 10),
    Option("cheaper", t("Нашёл дешевле", "Found cheaper"), 20),
    Option("delivery", t("Не устроила доставка", "Delivery terms"), 30),
    Option("no_stock", t("Нет в наличии", "Out of stock"), 40),
    Option("other", t("Другое", "Other"), 50),
)
SEGMENTS = (
    Option("new", t("Новый", "New"), 10),
    Option("active", t("Активный", "Active"), 20),
    Option("repeat", t("Повторный", "Repeat"), 30),
    Option("lapsed", t("Уснувший", "Lapsed"), 40),
)

PAYMENT_STATES = (
    Option("unpaid", t("Не оплачен", "Unpaid"), 10),
    Option("partial", t("Оплачен частично", "Partly paid"), 20),
    Option("paid", t("Оплачен", "Paid"), 30),
    Option("overdue", t("Просрочен", "Overdue"), 40),
)

FIELDS = (
    FieldSpec("UF_CRM_ES_ADDRESS", "deal", "string", t("Адрес доставки", "Delivery address")),
    FieldSpec("UF_CRM_ES_DELIVERY_DATE", "deal", "date", t("Дата доставки", "Delivery date")),
    FieldSpec(
        "UF_CRM_ES_ITEMS", "deal", "string", t("Состав заказа", "Items"), settings={"ROWS": 4}
    ),
    FieldSpec("UF_CRM_ES_QTY", "deal", "integer", t("Количество", "Quantity")),
    FieldSpec("UF_CRM_ES_COLOR", "deal", "string", t("Цвет", "Colour")),
    FieldSpec(
        "UF_CRM_ES_CARRIER",
        "deal",
        "enumeration",
        t("Служба доставки", "Carrier"),
        options=(
            Option("cdek", t("СДЭК", "CDEK"), 10),
            Option("yandex", t("Яндекс Доставка", "Yandex Delivery"), 20),
            Option("pickup", t("Самовывоз", "Pickup"), 30),
        ),
    ),
    FieldSpec(
        "UF_CRM_ES_REFUSAL",
        "deal",
        "enumeration",
        t("Причина отказа", "Refusal reason"),
        options=REFUSALS,
    ),
    FieldSpec("UF_CRM_ES_PAID", "deal", "double", t("Оплачено, ₽", "Paid")),
    FieldSpec("UF_CRM_ES_PAY_DUE", "deal", "date", t("Оплатить до", "Pay by")),
    FieldSpec(
        "UF_CRM_ES_PAYMENT", "deal", "enumeration", t("Оплата", "Payment"), options=PAYMENT_STATES
    ),
    FieldSpec(
        "UF_CRM_ES_RETURNING", "deal", "boolean", t("Повторный покупатель", "Returning buyer")
    ),
    FieldSpec(
        "UF_CRM_ES_SEGMENT", "contact", "enumeration", t("Сегмент", "Segment"), options=SEGMENTS
    ),
    FieldSpec("UF_CRM_ES_ORDERS", "contact", "integer", t("Заказов", "Orders")),
    FieldSpec("UF_CRM_ES_ORDERS_SUM", "contact", "double", t("Сумма заказов", "Orders total")),
)

ORDERS = PipelineSpec(
    "eshop.orders",
    t("Заказы интернет-магазина", "Online orders"),
    (
        stage("eshop.order.new", "NEW", "Новый заказ", "New", color=BLUE),
        stage("eshop.order.confirmed", "CONFIRMED", "Подтверждён", "Confirmed", color=CYAN),
        stage("eshop.order.assembling", "ASSEMBLING", "Сборка", "Assembling", color=TEAL),
        stage("eshop.order.shipped", "SHIPPED", "Отгружен в доставку", "Shipped", color=YELLOW),
        stage("eshop.order.pickup", "PICKUP", "Готов к выдаче", "Ready for pickup", color=ORANGE),
        stage("eshop.order.received", "WON", "Получен", "Received", "S", GREEN),
        stage("eshop.order.cancelled", "LOSE", "Отменён", "Cancelled", "F", RED),
    ),
    sort=550,
)

PLAYBOOK = Playbook(
    name="eshop",
    title=t("Интернет-магазин", "Online store"),
    fields=FIELDS,
    pipelines=(ORDERS,),
    robots=("segment_contact",),
    # LEAD: an open-line lead in eshop's line becomes an order (rules_via_open_lines)
    events=crm_events("LEAD", "DEAL", "CONTACT"),
    widgets=(
        WidgetSpec("order_timing", "CRM_DEAL_DETAIL_TAB", t("Время по стадиям", "Stage timing")),
    ),
    settings=(
        SettingSpec(
            "lead_claims",
            "table",
            [],
            t(
                "Открытые линии, чьи лиды — заказы (line:канал|ID, напр. line:telegrambot|3)",
                "Open lines whose leads are orders (line:connector|id)",
            ),
        ),
        SettingSpec(
            "open_line_sources",
            "table",
            ["OPENLINE"],
            t("Источники открытых линий (заказы из мессенджеров)", "Open-line sources"),
        ),
        SettingSpec(
            "stage_limits_hours",
            "table",
            {"eshop.order.new": 2, "eshop.order.confirmed": 24, "eshop.order.assembling": 24},
            t("Лимит на стадии, ч", "Stage limits, hours"),
        ),
        SettingSpec(
            "stage_limit_text",
            "str",
            "Заказ «{title}» на стадии «{stage}» дольше {hours} ч",
            t("Текст РОП о превышении лимита стадии", "Stage limit exceeded: text"),
        ),
        SettingSpec("alert_chat_id", "str", "", t("Чат для уведомлений", "Alert chat id")),
        SettingSpec(
            "order_sources",
            "table",
            ["STORE"],
            t(
                "Источники заказов (в «Заказы интернет-магазина»)",
                "Order sources (routed into the orders pipeline)",
            ),
        ),
        SettingSpec(
            "refusal_required_text",
            "str",
            "Заказ «{title}» не отменён: не указана «Причина отказа». Заполните причину и "
            "отмените заказ снова.",
            t("Текст: отмена без причины", "Text: cancelled without a reason"),
        ),
        SettingSpec(
            "active_window_days", "days", 90, t("Активный: заказ за, дней", "Active window, days")
        ),
        SettingSpec(
            "lapsed_after_days", "days", 180, t("Уснувший после, дней", "Lapsed after, days")
        ),
        SettingSpec(
            "payment_received_text",
            "str",
            "По заказу «{title}» получена оплата: {paid} из {sum} ₽ ({state}).",
            t("Текст об оплате", "Payment received text"),
        ),
        SettingSpec(
            "payment_overdue_text",
            "str",
            "Заказ «{title}» не оплачен к сроку {due}: оплачено {paid} из {sum} ₽.",
            t("Текст о просроченной оплате", "Payment overdue text"),
        ),
        SettingSpec(
            "lapsed_todo_text",
            "str",
            "Клиент «{name}» уснул: давно нет заказов. Позвоните и предложите вернуться "
            "(персональная скидка, новинки).",
            t("Дело по уснувшему клиенту", "To-do for a lapsed client"),
        ),
        SettingSpec(
            "stage_hints",
            "table",
            {"eshop.order.confirmed": "Подтвердите адрес доставки"},
            t("Подсказки по стадиям", "Stage hints"),
        ),
        SettingSpec(
            "stage_limits_working_hours",
            "bool",
            False,
            t("Лимиты стадий в рабочих часах", "Stage limits count working hours"),
        ),
        *role_settings(),
        *calendar_settings(),
    ),
)
