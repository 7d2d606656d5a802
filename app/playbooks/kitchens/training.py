"""Kitchens training mode (seed 002 «режим обучения»): what the manager should do now.

Data and one pure function; the lead's tab «Что сделать сейчас» (``app.widgets.training``)
shows :func:`hint_for` of the lead's current stage, read from the mirror when the tab opens —
so it follows the stage whoever moved it (a manager, or the app's own rules). The default
hints are :data:`HINTS`; ``training_hints`` replaces any of them and ``training_links``
adds an instruction link per stage. ``training_mode`` off: the tab says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

P = "kitchens.lead."
HINTS: Mapping[str, str] = {
    P + "unprocessed": "Возьмите лид в работу: позвоните клиенту в течение 15 минут.",
    P + "assigned": "Узнайте бюджет, материал фасадов и адрес объекта — заполните их в лиде.",
    P + "qualified": "Заполните квалификацию (тип дома, конфигурация, столешница, фартук, "
    "техника, категория, срочность) и подготовьте каталог и КП.",
    P + "proposal": "Отправьте каталог и КП на e-mail клиента и договоритесь о замере.",
    P + "measurement": "Забронируйте замер на вкладке «Замер» и подтвердите его с клиентом "
    "за сутки.",
    P + "next_contact": "Укажите дату следующего контакта — клиенту придёт напоминание.",
    P + "agreed": "Клиент согласен: проверьте созданную сделку и контакт.",
    P + "lost": "Укажите причину неуспеха.",
}


def hint_for(stage: str, settings: Mapping[str, Any]) -> tuple[str, str]:
    """(hint, instruction link) of ``stage``; ("", "") for a stage without a hint."""
    custom = settings.get("training_hints") or {}
    text = str(custom.get(stage) or HINTS.get(stage, ""))
    link = str((settings.get("training_links") or {}).get(stage) or "") if text else ""
    return text, link
