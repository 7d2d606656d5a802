"""fast-bitrix24 works against the emulator unchanged (webhook and OAuth)."""

import asyncio

from fast_bitrix24 import Bitrix, BitrixAsync


def test_webhook_call_call_batch_and_raw(emulator):
    b = Bitrix(emulator.webhook_url(), verbose=False)
    feature = b.call("feature.get", {"CODE": "rest_offline_extended"})
    assert feature == "Y"  # through batch with __order; single-key dicts are unwrapped
    many = b.call("feature.get", [{"CODE": "rest_offline_extended"}, {"CODE": "unknown"}])
    assert sorted(many) == ["N", "Y"]
    batch = b.call_batch({"halt": 0, "cmd": {"p": "profile", "t": "server.time"}})
    assert batch["p"]["ID"] == "1"
    raw = b.call("profile", {}, raw=True)
    assert raw["result"]["ID"] == "1" and "time" in raw
    counts = emulator.admin.get("requests")
    assert counts["calls"]["profile"] == 2
    assert counts["calls"]["feature.get"] == 3


def test_oauth_with_token_func_refreshes_on_expiry(emulator, installed_app):
    import requests

    app = installed_app
    state = {"tokens": app["tokens"], "refreshes": 0}

    async def token_func():
        def refresh():
            resp = requests.get(
                emulator.oauth_token_url,
                params={
                    "grant_type": "refresh_token",
                    "client_id": app["client_id"],
                    "client_secret": app["client_secret"],
                    "refresh_token": state["tokens"]["refresh_token"],
                },
            )
            resp.raise_for_status()
            return resp.json()

        if state["refreshes"] or state.get("started"):
            state["tokens"] = await asyncio.get_running_loop().run_in_executor(None, refresh)
            state["refreshes"] += 1
        state["started"] = True
        return state["tokens"]["access_token"]

    async def scenario():
        b = BitrixAsync(emulator.rest_url, token_func=token_func, verbose=False)
        first = await b.call("profile", {}, raw=True)
        emulator.admin.post("clock", {"advance": 3601})  # the access token expires
        second = await b.call("profile", {}, raw=True)
        third = await b.call("feature.get", {"CODE": "rest_offline_extended"})
        return first, second, third

    first, second, third = asyncio.run(scenario())
    assert third == "Y"
    assert first["result"]["ID"] == "1" and second["result"]["ID"] == "1"
    assert state["refreshes"] == 1


def test_get_all_pages_through_a_list_method(emulator):
    if emulator.portal.crm is None:
        return
    emulator.admin.post("seed", {"leads": 120})
    b = Bitrix(emulator.webhook_url(), verbose=False)
    leads = b.get_all("crm.lead.list", {"select": ["ID", "TITLE"]})
    assert sorted(int(row["ID"]) for row in leads) == list(range(1, 121))


def test_sync_bitrix_with_token_func(emulator, installed_app):
    token = installed_app["tokens"]["access_token"]

    async def token_func():
        return token

    b = Bitrix(emulator.rest_url, token_func=token_func, verbose=False)
    assert b.call("app.info", {"x": 1})["order0000000000"]["INSTALLED"] is True
    assert b.call("profile", {}, raw=True)["result"]["ID"] == "1"
