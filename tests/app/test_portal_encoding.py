"""Wire encoding and secret scrubbing (pure), plus the single-call path's value conventions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest

from app.portal.encoding import command, normalize, php_query
from app.portal.transport import scrub
from tests.app.test_portal_support import memory_client, webhook_credentials


def test_php_query_escapes_every_key_segment_and_value():
    query = php_query({"filter": {"=%TITLE": ["a&b", "c d"], ">ID": 5}, "select": ("ID",)})
    assert parse_qsl(query) == [
        ("filter[=%TITLE][0]", "a&b"),
        ("filter[=%TITLE][1]", "c d"),
        ("filter[>ID]", "5"),
        ("select[0]", "ID"),
    ]


def test_values_follow_bitrix_conventions_not_python_str():
    assert normalize(
        {"a": True, "b": False, "c": None, "d": date(2026, 1, 2), "e": Decimal("1.50")}
    ) == {
        "a": "Y",
        "b": "N",
        "c": "",
        "d": "2026-01-02",
        "e": "1.50",
    }
    assert "None" not in command("crm.item.update", {"fields": {"comments": None}})


def test_unsendable_value_is_a_clear_error():
    with pytest.raises(TypeError, match="object"):
        normalize({"x": object()})


def test_scrub_hides_webhook_codes_and_tokens():
    text = "POST http://p.example/rest/12/abcdef123/crm.deal.add?auth=tok123&refresh_token=r9&x=1"
    cleaned = scrub(text)
    assert "abcdef123" not in cleaned and "tok123" not in cleaned and "r9" not in cleaned
    assert "/rest/12/***/crm.deal.add" in cleaned and "x=1" in cleaned


def test_single_call_sends_booleans_as_y_n(emulator, redis_url):
    client, _ = memory_client(webhook_credentials(emulator), redis_url)
    item = client.call(
        "crm.item.add", {"entityTypeId": 2, "fields": {"title": "t", "opened": False}}
    )
    assert item["item"]["opened"] == "N"


def test_client_works_from_inside_a_running_event_loop(emulator, redis_url):
    """fast-bitrix24's sync ``Bitrix`` returns an ``asyncio.Task`` there; ours returns the result."""
    import asyncio

    client, _ = memory_client(webhook_credentials(emulator), redis_url)

    async def inside() -> dict:
        return client.call("profile")

    assert asyncio.run(inside())["ID"] == "1"
