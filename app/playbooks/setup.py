"""What a fresh install cannot guess: the settings an admin must fill for a playbook to do
all it promises, and what stays off until then.

Every other setting has a working default. These name people and places of the company
(store administrators, measurers, the consultant…); until they are filled the rule that
needs them does nothing or falls back, as each line says. The installer's summary and
``settings`` list :func:`what_to_fill` for the portal's effective settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# playbook → (setting, what it is, what happens while it is empty)
NEEDED: Mapping[str, tuple[tuple[str, str, str], ...]] = {
    "furniture": (
        (
            "city_admins",
            "город → ID администратора магазина",
            "лиды не передаются в магазин: консультанту приходит напоминание передать вручную",
        ),
        (
            "store_managers",
            "магазин или город → ID заведующего",
            "эскалация не доходит до заведующего магазином",
        ),
        (
            "online_consultant_id",
            "ID онлайн-консультанта",
            "лиды из чата, форм и почты остаются у ответственного по умолчанию портала",
        ),
    ),
    "metal": (
        (
            "routing_table",
            "таблица распределения (регион, площадь, должность → менеджер)",
            "лиды без клиента остаются у РОП",
        ),
        (
            "shared_mailboxes",
            "адреса общих почтовых ящиков",
            "общая почта определяется по ответственному (РОП)",
        ),
    ),
    "kitchens": (
        (
            "measurer_user_ids",
            "ID замерщиков",
            "вкладка «Замер» не предлагает окон для записи",
        ),
        (
            "sos_pool_user_ids",
            "ID пользователей-интеграций, на которых приходят лиды",
            "звонок считается принятым, только если лид отдан не его создателю",
        ),
    ),
    "b2b": (),
    "eshop": (),
}


def _empty(value: Any) -> bool:
    return value in (None, "", 0, "0", [], {}, ())


def what_to_fill(playbook: str, settings: Mapping[str, Any]) -> list[str]:
    """One line per needed setting that is still empty, saying what to put there and what
    is off until then (Russian, for the admin)."""
    return [
        f"{playbook}: заполните «{key}» ({what}) — пока не заполнено, {effect}. "
        f"Команда: settings --playbook {playbook} --set {key}=…"
        for key, what, effect in NEEDED.get(playbook, ())
        if _empty(settings.get(key))
    ]
