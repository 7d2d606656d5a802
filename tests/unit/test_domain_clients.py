from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain.clients import (
    ClientRecord,
    LinkedEntity,
    company_key,
    contacts_to_realign,
    identify_client,
    object_responsible,
)
from app.domain.milestones import (
    add_months,
    auto_success_due,
    delay_notice_due,
    is_deferred_demand,
    refusal_reason_problem,
)

CLIENTS = [
    ClientRecord(5, "company", 50, phones=("+7 912 000-00-01",), company="ООО «Ромашка»"),
    ClientRecord(3, "contact", 30, phones=("8 (912) 345-67-89",), emails=("Ivan@Mail.ru",)),
    ClientRecord(4, "contact", 40, emails=("ivan@mail.ru",), company="Ромашка"),
    ClientRecord(6, "contact", 60, phones=("мусор",)),
]


@pytest.mark.parametrize(
    "kw, client, by",
    [
        ({"phones": ["+79123456789"]}, 3, ("phone",)),
        ({"emails": [" IVAN@mail.RU "]}, 3, ("email",)),  # 3 and 4 both match: lowest id contact
        ({"emails": ["ivan@mail.ru"], "company": "Ромашка ООО"}, 4, ("email", "company")),
        ({"company": 'ООО "Ромашка"'}, 4, ("company",)),  # contact before company
        ({"phones": ["9120000001"]}, 5, ("phone",)),
    ],
)
def test_identify_client(kw, client, by):
    match = identify_client(clients=CLIENTS, **kw)
    assert (match.client.id, match.matched_by) == (client, by)


def test_identify_client_no_match_and_garbage():
    assert identify_client(phones=["12"], emails=["нет"], company="", clients=CLIENTS) is None
    assert identify_client(phones=["мусор"], clients=CLIENTS) is None
    assert identify_client(company="ООО", clients=CLIENTS) is None  # only a legal form


def test_company_key():
    assert company_key("ООО «Ромашка-Плюс»") == "ромашка плюс"
    assert company_key("ИП Иванов И.И.") == "иванов и и"
    assert company_key(None) == ""


def test_contacts_to_realign():
    assert contacts_to_realign(7, {1: 7, 2: 8, 3: None}) == {2: 7, 3: 7}
    assert contacts_to_realign(7, {1: 7}) == {}


def test_object_responsible_prefers_open_deals_then_recent():
    t = datetime(2026, 1, 1, tzinfo=UTC)
    links = [
        LinkedEntity("lead", 1, 11, True, t + timedelta(days=5)),
        LinkedEntity("deal", 2, 22, True, t),
        LinkedEntity("deal", 3, 33, False, t + timedelta(days=9)),
    ]
    assert object_responsible(links) == 22
    assert object_responsible(links[:1] + links[2:]) == 11  # open lead beats closed deal
    newer = LinkedEntity("deal", 4, 44, True, t + timedelta(days=1))
    assert object_responsible([*links, newer]) == 44
    assert object_responsible([LinkedEntity("lead", 1, None)]) is None
    assert object_responsible([]) is None


@pytest.mark.parametrize(
    "day, months, expected",
    [
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2026, 1, 15), 6, date(2026, 7, 15)),
        (date(2026, 12, 1), 1, date(2027, 1, 1)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def test_deferred_demand_is_strictly_more_than_six_months():
    today = date(2026, 1, 15)
    assert not is_deferred_demand(date(2026, 7, 15), today)
    assert is_deferred_demand(date(2026, 7, 16), today)
    assert is_deferred_demand(date(2026, 5, 1), today, months=3)
    assert not is_deferred_demand(None, today)


def test_furniture_dates_and_refusal_reason():
    assert delay_notice_due(date(2026, 3, 10)) == date(2026, 3, 3)
    t = datetime(2026, 3, 10, 15, tzinfo=UTC)
    assert auto_success_due(t) == t + timedelta(days=3)
    assert refusal_reason_problem("  ") and refusal_reason_problem(None)
    assert refusal_reason_problem([]) and refusal_reason_problem(["", None])
    assert refusal_reason_problem("нашёл дешевле") is None
    assert refusal_reason_problem(["", "дорого"]) is None
