"""Decide how one client message goes out: channel, recipient and final text. Pure.

``decide(message, client, portal, settings)`` walks the channel order (the playbook's
``message_channels`` setting, else the rule's channel first, then messenger → SMS → e-mail)
and takes the first channel the client can be reached on and the portal can send through.
Every channel passed over leaves a reason, so a refusal says exactly why nothing went out:
"do not contact", a placeholder the record cannot fill, no phone/e-mail, an invalid one,
no open-line chat, no SMS provider.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.channels.settings import CHANNELS
from app.domain.validation import ValueProblem, check_email, normalise_phone

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Message:
    """What the rule asked for (one outbox row)."""

    wanted: str  # the rule's channel
    subject: str
    text: str
    template: str = ""


@dataclass(frozen=True)
class Client:
    """How the record's client can be reached (gathered from the portal)."""

    phones: tuple[str, ...] = ()
    emails: tuple[tuple[str, str, int], ...] = ()  # (address, entity, id) — who owns it
    chats: tuple[tuple[str, str, int], ...] = ()  # (chat id, entity, id) — the chat's binding
    do_not_contact: bool = False
    values: Mapping[str, Any] = field(default_factory=dict)  # placeholders' values


@dataclass(frozen=True)
class Portal:
    """Which channels this portal/app can use at all."""

    sms: bool = False  # an SMS provider is configured
    messenger: bool = True  # open lines reachable (scope granted)
    email: bool = True


@dataclass(frozen=True)
class Plan:
    channel: str | None
    recipient: str | None = None
    text: str = ""
    subject: str = ""
    owner: tuple[str, int] | None = None  # the contact/record the address belongs to
    reason: str | None = None  # why nothing can go out (channel is None)
    passed: tuple[str, ...] = ()  # why earlier channels were passed over


def order(wanted: str, setting: Any) -> list[str]:
    """The channels to try, in order."""
    if isinstance(setting, Sequence) and not isinstance(setting, str) and setting:
        chosen = [str(c).strip().lower() for c in setting]
        return [c for c in dict.fromkeys(chosen) if c in CHANNELS]
    rest = [c for c in CHANNELS if c != wanted]
    return ([wanted] if wanted in CHANNELS else []) + rest


def render(text: str, values: Mapping[str, Any]) -> tuple[str, list[str]]:
    """``{name}`` replaced by ``values[name]``; returns (text, names that had no value)."""
    missing: list[str] = []

    def one(match: re.Match) -> str:
        name = match.group(1)
        value = values.get(name)
        if value in (None, "", [], {}):
            missing.append(name)
            return match.group(0)
        return str(value)

    return _PLACEHOLDER.sub(one, text), missing


def decide(
    message: Message,
    client: Client,
    portal: Portal,
    settings: Mapping[str, Any],
    *,
    skip: Sequence[str] = (),
) -> Plan:
    """The plan for ``message`` (see the module doc); ``skip``: channels already found
    unusable while sending (e.g. no mailbox), with their reasons kept by the caller."""
    if client.do_not_contact:
        return Plan(None, reason="клиент просил не беспокоить (do not contact)")
    templates = settings.get("message_templates") or {}
    source = message.text
    if message.template and isinstance(templates, Mapping) and templates.get(message.template):
        source = str(templates[message.template])
    text, missing = render(source, client.values)
    subject, missing_subject = render(message.subject, client.values)
    if missing or missing_subject:
        names = ", ".join("{" + n + "}" for n in dict.fromkeys(missing + missing_subject))
        return Plan(None, reason=f"в шаблоне не заполнены поля: {names}")
    if not text.strip():
        return Plan(None, reason="пустой текст сообщения")
    passed: list[str] = []
    for channel in order(message.wanted, settings.get("message_channels")):
        if channel in skip:
            continue
        found = _reach(channel, client, portal, passed)
        if found is not None:
            recipient, owner = found
            return Plan(channel, recipient, text, subject or text[:60], owner, None, tuple(passed))
    reason = "; ".join(passed) or "нет ни одного канала"
    return Plan(None, reason=reason, passed=tuple(passed))


def _reach(channel: str, client: Client, portal: Portal, passed: list[str]):
    if channel == "messenger":
        if not portal.messenger:
            passed.append("messenger: открытые линии недоступны приложению")
        elif not client.chats:
            passed.append("messenger: у клиента нет чата открытой линии")
        else:
            chat, entity, rid = client.chats[0]
            return chat, (entity, rid)
        return None
    if channel == "sms":
        if not portal.sms:
            passed.append("sms: SMS-провайдер не настроен")
            return None
        return _first_valid(client.phones, normalise_phone, "sms", "нет телефона", passed)
    if channel == "email":
        if not portal.email:
            passed.append("email: почта недоступна")
            return None
        addresses = [a for a, _e, _i in client.emails]
        found = _first_valid(addresses, check_email, "email", "нет e-mail", passed)
        if found is None:
            return None
        owner = next(((e, i) for a, e, i in client.emails if check_ok(a, found[0])), None)
        return found[0], owner
    passed.append(f"{channel}: неизвестный канал")
    return None


def check_ok(raw: str, normalised: str) -> bool:
    try:
        return check_email(raw) == normalised
    except ValueProblem:
        return False


def _first_valid(values, check, channel: str, empty: str, passed: list[str]):
    bad = []
    for value in values:
        try:
            return check(value), None
        except ValueProblem:
            bad.append(str(value))
    if bad:
        passed.append(f"{channel}: неверный адрес «{bad[0]}»")
    else:
        passed.append(f"{channel}: {empty}")
    return None
