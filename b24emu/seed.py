"""Seed data: leads, deals, contacts, companies and "objects" with Russian names, phones,
e-mails and object dimensions, through EMU-CRM's ``bulk_seed`` (no events, no robots).

100,000 records take seconds. Deterministic for a given ``seed``.
"""

from __future__ import annotations

import random
from typing import Any

from b24emu.state import Portal

FIRST_M = [
    "Александр",
    "Дмитрий",
    "Максим",
    "Сергей",
    "Андрей",
    "Алексей",
    "Иван",
    "Михаил",
    "Николай",
    "Павел",
]
FIRST_F = [
    "Анна",
    "Мария",
    "Елена",
    "Ольга",
    "Наталья",
    "Татьяна",
    "Ирина",
    "Светлана",
    "Юлия",
    "Екатерина",
]
LAST = [
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
]
STREETS = [
    "ул. Ленина",
    "ул. Гагарина",
    "пр. Мира",
    "ул. Советская",
    "ул. Садовая",
    "ул. Лесная",
    "ул. Школьная",
]
CITIES = ["Москва", "Казань", "Екатеринбург", "Новосибирск", "Самара", "Тверь", "Пермь"]
PRODUCTS = [
    "Окна ПВХ",
    "Балконное остекление",
    "Москитные сетки",
    "Двери входные",
    "Жалюзи",
    "Откосы",
]
COMPANY_KINDS = ["ООО", "ИП", "АО"]
COMPANY_WORDS = [
    "Ромашка",
    "СтройДом",
    "Уют",
    "Горизонт",
    "Северный ветер",
    "ТеплоМаркет",
    "Витраж",
]
TRANSLIT = str.maketrans("абвгдеёжзийклмнопрстуфхцчшщыэюя", "abvgdeejziiklmnoprstufhccssyeua", "ъь")

OBJECT_TYPE_TITLE = "Объекты"


def _person(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.5:
        return rng.choice(FIRST_M), rng.choice(LAST)
    return rng.choice(FIRST_F), rng.choice(LAST) + "а"


def _phone(rng: random.Random) -> str:
    return f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"


def _email(rng: random.Random, first: str, last: str, n: int) -> str:
    login = f"{first.lower().translate(TRANSLIT)}.{last.lower().translate(TRANSLIT)}{n}"
    return f"{login}@{rng.choice(['mail.ru', 'yandex.ru', 'gmail.com', 'bk.ru'])}"


def _fm(rng: random.Random, first: str, last: str, n: int) -> list[dict[str, str]]:
    return [
        {"typeId": "PHONE", "valueType": "WORK", "value": _phone(rng)},
        {"typeId": "EMAIL", "valueType": "WORK", "value": _email(rng, first, last, n)},
    ]


def _staff(portal: Portal) -> list[int]:
    staff = [uid for uid, u in portal.users.items() if uid != 1 and u.get("ACTIVE", True)]
    return staff or [1]


def lead_rows(rng: random.Random, count: int, staff: list[int]) -> list[dict[str, Any]]:
    rows = []
    for n in range(count):
        first, last = _person(rng)
        rows.append(
            {
                "title": f"{rng.choice(PRODUCTS)} — {first} {last}",
                "name": first,
                "lastName": last,
                "assignedById": rng.choice(staff),
                "sourceId": rng.choice(["WEBFORM", "CALL", "EMAIL", ""]),
                "opportunity": float(rng.randrange(15000, 400000, 500)),
                "fm": _fm(rng, first, last, n),
            }
        )
    return rows


def contact_rows(rng: random.Random, count: int, staff: list[int]) -> list[dict[str, Any]]:
    rows = []
    for n in range(count):
        first, last = _person(rng)
        rows.append(
            {
                "name": first,
                "lastName": last,
                "assignedById": rng.choice(staff),
                "fm": _fm(rng, first, last, n),
            }
        )
    return rows


def deal_rows(rng: random.Random, count: int, staff: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "title": f"{rng.choice(PRODUCTS)}, {rng.choice(CITIES)}, {rng.choice(STREETS)}, д. {rng.randint(1, 120)}",
            "assignedById": rng.choice(staff),
            "opportunity": float(rng.randrange(20000, 900000, 1000)),
        }
        for _ in range(count)
    ]


def company_rows(rng: random.Random, count: int, staff: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "title": f"{rng.choice(COMPANY_KINDS)} «{rng.choice(COMPANY_WORDS)}»",
            "assignedById": rng.choice(staff),
        }
        for _ in range(count)
    ]


def ensure_object_type(
    portal: Portal, entity_type_id: int | None = None
) -> tuple[int, dict[str, str]]:
    """The objects smart process (created when missing) and its dimension field names."""
    store = portal.crm
    row = store.types.by_etid(int(entity_type_id)) if entity_type_id else None
    if row is None:
        fields: dict[str, Any] = {"title": OBJECT_TYPE_TITLE}
        if entity_type_id:
            fields["entityTypeId"] = int(entity_type_id)
        row = store.add_type(fields, 1)
    type_id = row["id"]
    names = {}
    for key, kind, label in (
        ("WIDTH", "double", "Ширина, мм"),
        ("HEIGHT", "double", "Высота, мм"),
        ("ADDRESS", "string", "Адрес"),
    ):
        name = f"UF_CRM_{type_id}_{key}"
        if not store.userfields.by_name(f"CRM_{type_id}", name):
            store.add_userfield(
                f"CRM_{type_id}",
                {"fieldName": name, "userTypeId": kind, "editFormLabel": {"ru": label}},
            )
        names[key] = name
    return int(row["entityTypeId"]), names


def object_rows(
    rng: random.Random, count: int, staff: list[int], fields: dict[str, str]
) -> list[dict[str, Any]]:
    rows = []
    for _ in range(count):
        width, height = rng.randrange(400, 2400, 10), rng.randrange(400, 2200, 10)
        address = f"{rng.choice(CITIES)}, {rng.choice(STREETS)}, д. {rng.randint(1, 120)}, кв. {rng.randint(1, 300)}"
        row: dict[str, Any] = {
            "title": f"Проём {width}×{height} мм, {address}",
            "assignedById": rng.choice(staff),
        }
        if fields:
            row[fields["WIDTH"]] = width
            row[fields["HEIGHT"]] = height
            row[fields["ADDRESS"]] = address
        rows.append(row)
    return rows


def seed_portal(
    portal: Portal,
    *,
    leads: int = 0,
    deals: int = 0,
    contacts: int = 0,
    companies: int = 0,
    objects: int = 0,
    objects_entity_type_id: int | None = None,
    seed: int = 1,
) -> dict[str, Any]:
    """Bulk-create records; returns ``{kind: [first_id, last_id, count]}``."""
    if portal.crm is None:
        raise ValueError("CRM store is not available in this build")
    rng = random.Random(seed)
    staff = _staff(portal)
    made: dict[str, Any] = {}
    plan = [
        ("leads", 1, leads, lead_rows),
        ("contacts", 3, contacts, contact_rows),
        ("companies", 4, companies, company_rows),
        ("deals", 2, deals, deal_rows),
    ]
    for kind, etid, count, build in plan:
        if count:
            ids = portal.crm.bulk_seed(etid, build(rng, int(count), staff))
            made[kind] = [ids[0], ids[-1], len(ids)]
    if objects:
        etid, fields = ensure_object_type(portal, objects_entity_type_id)
        ids = portal.crm.bulk_seed(etid, object_rows(rng, int(objects), staff, fields))
        made["objects"] = [ids[0], ids[-1], len(ids)]
        made["objects_entity_type_id"] = etid
    return made
