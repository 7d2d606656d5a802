"""The channel settings every playbook has (per portal and playbook, ``b24 settings``).

They are appended to each playbook's own settings by ``app.playbooks.load``.
"""

from __future__ import annotations

from app.playbooks.schema import SettingSpec, Text

CHANNELS = ("messenger", "sms", "email")


def _t(ru: str, en: str) -> Text:
    return Text(ru, en)


SPECS = (
    SettingSpec(
        "message_channels",
        "table",
        [],
        _t(
            "Порядок каналов для сообщений клиенту (messenger, sms, email)",
            "Client message channel order (messenger, sms, email)",
        ),
    ),
    SettingSpec(
        "message_templates",
        "table",
        {},
        _t(
            "Шаблоны сообщений клиенту: имя шаблона → текст с {полями}",
            "Client message templates: name → text with {fields}",
        ),
    ),
    SettingSpec(
        "do_not_contact_field",
        "str",
        "",
        _t("Поле «Не беспокоить» (код поля)", "Do-not-contact field (code)"),
    ),
    SettingSpec(
        "email_from",
        "str",
        "",
        _t("Отправитель писем «Имя <адрес>»", "E-mail sender «Name <address>»"),
    ),
    SettingSpec(
        "openline_user_id",
        "int",
        0,
        _t("Сотрудник, от имени которого пишем в открытые линии", "Open-line sender user id"),
    ),
    SettingSpec("sms_provider", "str", "", _t("SMS-провайдер (smsru)", "SMS provider (smsru)")),
    SettingSpec("sms_api_id", "str", "", _t("Ключ API SMS-провайдера", "SMS provider API key")),
    SettingSpec("sms_sender", "str", "", _t("Имя отправителя SMS", "SMS sender name")),
    SettingSpec(
        "sms_api_url",
        "str",
        "https://sms.ru/sms/send",
        _t("Адрес API SMS-провайдера", "SMS provider API URL"),
    ),
)
SECRET_KEYS = frozenset({"sms_api_id"})
