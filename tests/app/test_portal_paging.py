"""Keyset paging against the emulator: every record exactly once, ~N/2500 requests chained."""

from __future__ import annotations

import pytest

from tests.app.test_portal_support import memory_client, request_log, webhook_credentials


@pytest.fixture
def client(emulator, redis_url):
    client, _ = memory_client(webhook_credentials(emulator), redis_url)
    return client


def _http(emu, method: str) -> list[dict]:
    return [e for e in request_log(emu) if e["method"] == method]


def test_chained_pages_return_every_item_once_in_two_requests(emulator, client):
    ids = emulator.portal.crm.bulk_seed(2, [{"title": f"d{i}"} for i in range(2600)])
    seen_progress: list[int] = []
    rows = list(
        client.iter_list(
            "crm.item.list",
            {"entityTypeId": 2, "select": ["id", "title"]},
            id_field="id",
            items_key="items",
            batch_pages=50,
            progress=seen_progress.append,
        )
    )
    assert [r["id"] for r in rows] == ids  # each once, in id order
    assert sum(seen_progress) == len(ids)
    # 53 pages (52 full + 1 empty): one batch of 50 chained pages, then one of the rest
    assert len(_http(emulator, "batch")) == 2
    assert _http(emulator, "crm.item.list") == []  # nothing outside the batches


def test_legacy_list_pages_one_by_one_and_chained_agree(emulator, client):
    ids = emulator.portal.crm.bulk_seed(1, [{"title": f"lead {i}"} for i in range(260)])
    single = [r["ID"] for r in client.iter_list("crm.lead.list", {"select": ["ID", "TITLE"]})]
    assert len(_http(emulator, "crm.lead.list")) == 6  # 5 full pages + the short one
    chained = [
        r["ID"] for r in client.iter_list("crm.lead.list", {"select": ["TITLE"]}, batch_pages=5)
    ]
    assert [int(i) for i in single] == ids
    assert chained == single
    assert len(_http(emulator, "batch")) == 2


def test_caller_filter_is_kept_and_start_id_respected(emulator, client):
    emulator.portal.crm.bulk_seed(2, [{"title": "keep" if i % 2 else "drop"} for i in range(120)])
    rows = list(
        client.iter_list(
            "crm.item.list",
            {"entityTypeId": 2, "filter": {"title": "keep", ">id": 20}},
            id_field="id",
            items_key="items",
            batch_pages=3,
        )
    )
    assert rows and all(r["title"] == "keep" and r["id"] > 20 for r in rows)
    assert len(rows) == len({r["id"] for r in rows}) == 50


def test_paging_parameters_it_owns_are_refused(client):
    with pytest.raises(ValueError, match="order"):
        list(client.iter_list("crm.lead.list", {"order": {"TITLE": "ASC"}}))
    with pytest.raises(ValueError):
        list(client.iter_list("crm.lead.list", batch_pages=51))
