"""Readable headings for the reports page and its CSV: the report modules name their tables
and columns in English identifiers (``avg_h``, ``overdue_%``) for the CLI; a person reads
«Среднее, ч» or "Average, h". Anything not listed here is shown as the report wrote it.
"""

from __future__ import annotations

# column id → (ru, en)
COLUMNS: dict[str, tuple[str, str]] = {
    "%": ("%", "%"),
    "amount": ("Сумма", "Amount"),
    "answers": ("Ответов", "Answers"),
    "avg_cycle_days": ("Средний цикл, дн.", "Average cycle, days"),
    "avg_h": ("Среднее, ч", "Average, h"),
    "campaign": ("Кампания", "Campaign"),
    "client": ("Клиент", "Client"),
    "clients": ("Клиентов", "Clients"),
    "cold_deals": ("Холодных сделок", "Cold deals"),
    "companies": ("Компаний", "Companies"),
    "contacts": ("Контактов", "Contacts"),
    "conversion_%": ("Конверсия, %", "Conversion, %"),
    "converted": ("Сконвертировано", "Converted"),
    "days_late": ("Дней просрочки", "Days late"),
    "deal": ("Сделка", "Deal"),
    "deal_fill_%": ("Заполненность сделки, %", "Deal filled, %"),
    "deals_sum": ("Сумма сделок", "Deals sum"),
    "deferral_days": ("Отсрочка, дн.", "Deferral, days"),
    "delivery": ("Доставка", "Delivery"),
    "done": ("Выполнено", "Done"),
    "due": ("Срок", "Due"),
    "employee": ("Сотрудник", "Employee"),
    "hours_in_stage": ("Часов на стадии", "Hours in stage"),
    "leads": ("Лидов", "Leads"),
    "limit_h": ("Лимит, ч", "Limit, h"),
    "lost_there": ("Потеряно здесь", "Lost there"),
    "lost_total": ("Потеряно всего", "Lost in total"),
    "manager": ("Менеджер", "Manager"),
    "max_h": ("Максимум, ч", "Maximum, h"),
    "median_h_to_first_contact": ("Медиана до первого контакта, ч", "Median to first contact, h"),
    "month": ("Месяц", "Month"),
    "new": ("Новых", "New"),
    "no_contact": ("Без контакта", "No contact"),
    "now": ("Сейчас", "Now"),
    "nps": ("NPS", "NPS"),
    "open": ("Открыто", "Open"),
    "order": ("Заказ", "Order"),
    "orders": ("Заказов", "Orders"),
    "outstanding": ("Долг", "Outstanding"),
    "overdue": ("Просрочено", "Overdue"),
    "overdue_%": ("Просрочено, %", "Overdue, %"),
    "overdue_todos_now": ("Просроченных дел сейчас", "Overdue to-dos now"),
    "owed": ("Остаток", "Owed"),
    "packaging": ("Упаковка", "Packaging"),
    "paid": ("Оплачено", "Paid"),
    "rank": ("Место", "Rank"),
    "reached": ("Дошло", "Reached"),
    "reason": ("Причина", "Reason"),
    "received": ("Получено", "Received"),
    "rep": ("Представитель", "Rep"),
    "revenue": ("Выручка", "Revenue"),
    "samples": ("Образцов", "Samples"),
    "segment": ("Сегмент", "Segment"),
    "shelf_life": ("Срок годности", "Shelf life"),
    "source": ("Источник", "Source"),
    "stage": ("Стадия", "Stage"),
    "stage_before_cancel": ("Стадия перед отменой", "Stage before cancel"),
    "stalled_now": ("Зависших сейчас", "Stalled now"),
    "stays": ("Попаданий", "Stays"),
    "sum": ("Сумма", "Sum"),
    "sum_now": ("Сумма сейчас", "Sum now"),
    "total_h": ("Всего, ч", "Total, h"),
    "won": ("Выиграно", "Won"),
    "won_deals": ("Выигранных сделок", "Won deals"),
    "won_revenue": ("Выручка выигранных", "Won revenue"),
}

# table title as the report writes it → ru
TITLES_RU: dict[str, str] = {
    "Clients by activity": "Клиенты по активности",
    "Clients per segment": "Клиенты по сегментам",
    "Cold-sales rep activity": "Активность торговых представителей",
    "Debts per client": "Долги по клиентам",
    "Lead → deal conversion per manager": "Конверсия лидов в сделки по менеджерам",
    "Leads by source and campaign": "Лиды по источникам и кампаниям",
    "Managers' work on leads": "Работа менеджеров с лидами",
    "NPS per employee": "NPS по сотрудникам",
    "NPS per month": "NPS по месяцам",
    "Orders per stage": "Заказы по стадиям",
    "Payment deferrals": "Отсрочки платежей",
    "Per manager": "По менеджерам",
    "Refusal reasons": "Причины отказов",
    "Refusals per manager": "Отказы по менеджерам",
    "Samples handed over": "Переданные образцы",
    "Stuck now (over the stage limit)": "Зависли сейчас (дольше лимита стадии)",
    "Tasks per employee": "Задачи по сотрудникам",
    "Time per stage (hours), slowest first": "Время на стадиях (часы), сначала самые долгие",
    "Total time per order (hours)": "Общее время заказа (часы)",
    "Where each manager loses deals most": "Где каждый менеджер чаще теряет сделки",
    "Where orders are lost": "Где теряются заказы",
}

# a table's note as the report writes it → ru (notes with counts in them stay as written)
NOTES_RU: dict[str, str] = {
    "Counts the tasks the app creates (stage tasks, follow-ups); tasks made by hand in the "
    "portal are not in the store.": "Считаются задачи, которые ставит приложение (задачи "
    "стадий, напоминания); задачи, созданные в портале вручную, сюда не попадают.",
    "Leads counted by creation in the period; overdue to-dos and stalled leads as of now.": (
        "Лиды считаются по дате создания в периоде; просроченные дела и зависшие лиды — "
        "на текущий момент."
    ),
    "Managers the portal directory does not know yet are shown as #id.": (
        "Менеджеры, которых ещё нет в справочнике портала, показаны как #id."
    ),
    "Open stays counted up to the period end.": "Незавершённые стадии считаются до конца периода.",
    "Source codes as stored (sourceId); campaign from utmCampaign; sums from the deals made "
    "from the leads (opportunity).": "Источник — код из лида (sourceId), кампания — "
    "utmCampaign; суммы — по сделкам, созданным из лидов (opportunity).",
    "The eshop playbook is not installed on this portal: no orders pipeline.": (
        "Сценарий интернет-магазина на портале не установлен: нет воронки заказов."
    ),
    "The eshop playbook is not installed on this portal: no «Отменён» stage.": (
        "Сценарий интернет-магазина на портале не установлен: нет стадии «Отменён»."
    ),
}


def note(text: str, lang: str) -> str:
    return text if lang == "en" else NOTES_RU.get(text, text)


def column(name: str, lang: str) -> str:
    pair = COLUMNS.get(name)
    return (pair[1] if lang == "en" else pair[0]) if pair else name


def table_title(text: str, lang: str) -> str:
    return text if lang == "en" else TITLES_RU.get(text, text)


def localized(table, lang: str):
    """``table`` with its title and column headings in ``lang`` (rows untouched)."""
    from app.reports import Table

    return Table(
        table_title(table.title, lang),
        tuple(column(c, lang) for c in table.columns),
        table.rows,
        note(table.note, lang),
    )
