"""Batch through the gateway against the emulator: per-key errors, chaining, chunking, halt."""

from __future__ import annotations

import pytest

from app.portal import errors
from tests.app.test_portal_support import memory_client, request_log, webhook_credentials


@pytest.fixture
def client(emulator, redis_url):
    client, _ = memory_client(webhook_credentials(emulator), redis_url)
    return client


def _batch_requests(emu) -> list[dict]:
    return [e for e in request_log(emu) if e["method"] == "batch"]


def test_per_key_errors_keep_codes_and_successes_survive(emulator, client):
    reply = client.batch(
        {
            "add": ("crm.item.add", {"entityTypeId": 2, "fields": {"title": "Chained"}}),
            "get": ("crm.item.get", {"entityTypeId": 2, "id": "$result[add][item][id]"}),
            "missing": ("crm.item.get", {"entityTypeId": 2, "id": 424242}),
            "legacy": ("crm.lead.get", {"id": 424242}),
            "nomethod": ("crm.nothing", {}),
        }
    )
    assert reply.results["get"]["item"]["title"] == "Chained"
    assert reply.results["get"]["item"]["id"] == reply.results["add"]["item"]["id"]
    assert isinstance(reply.errors["missing"], errors.NotFound)
    assert reply.errors["missing"].code == "NOT_FOUND"
    assert isinstance(reply.errors["legacy"], errors.NotFound)
    assert reply.errors["legacy"].code == ""
    assert isinstance(reply.errors["nomethod"], errors.MethodNotFound)
    assert set(reply.results) == {"add", "get"}
    assert len(_batch_requests(emulator)) == 1


def test_more_than_50_commands_are_split_and_all_answered(emulator, client):
    ids = emulator.portal.crm.bulk_seed(2, [{"title": f"d{i}"} for i in range(120)])
    commands = {f"g{i}": ("crm.item.get", {"entityTypeId": 2, "id": i}) for i in ids}
    reply = client.batch(commands)
    assert not reply.errors
    assert {k: v["item"]["id"] for k, v in reply.results.items()} == {f"g{i}": i for i in ids}
    assert [e["batch_size"] for e in _batch_requests(emulator)] == [50, 50, 20]


def test_halt_stops_the_chunk_and_sends_no_later_chunk(emulator, client):
    commands = {f"a{i}": ("profile", {}) for i in range(49)}
    commands["bad"] = ("crm.item.get", {"entityTypeId": 2, "id": 999999})
    commands["after"] = ("profile", {})  # lands in the second chunk
    reply = client.batch(commands, halt=True)
    assert reply.halted
    assert set(reply.errors) == {"bad"}
    assert "after" not in reply.results
    assert len(reply.results) == 49
    assert len(_batch_requests(emulator)) == 1


def test_chaining_across_chunks_is_refused_before_sending(emulator, client):
    commands = {f"p{i}": ("profile", {}) for i in range(50)}
    commands["late"] = ("user.get", {"ID": "$result[p0][ID]"})  # p0 is in chunk 1, late in 2
    with pytest.raises(ValueError, match=r"\$result\[p0\]"):
        client.batch(commands)
    assert _batch_requests(emulator) == []


def test_reference_to_a_later_key_is_refused(client):
    with pytest.raises(ValueError):
        client.batch(
            {
                "first": ("crm.item.get", {"entityTypeId": 2, "id": "$result[second][item][id]"}),
                "second": ("crm.item.add", {"entityTypeId": 2, "fields": {"title": "x"}}),
            }
        )


def test_booleans_and_none_in_batch_arrive_as_y_n_and_empty(emulator, client):
    reply = client.batch(
        {
            "yes": ("crm.item.add", {"entityTypeId": 2, "fields": {"title": "y", "opened": True}}),
            "no": (
                "crm.item.add",
                {"entityTypeId": 2, "fields": {"title": "n", "opened": False, "comments": None}},
            ),
        }
    )
    assert not reply.errors
    assert reply.results["yes"]["item"]["opened"] == "Y"
    assert reply.results["no"]["item"]["opened"] == "N"
    assert reply.results["no"]["item"]["comments"] in (None, "")  # not the string "None"


def test_numeric_keys_come_back_by_key(client):
    reply = client.batch({"0": ("profile", {}), "1": ("user.get", {"ID": 1})})
    assert reply.results["0"]["ID"] == "1"
    assert reply.results["1"][0]["ID"] == "1"
