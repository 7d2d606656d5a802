"""Fixtures for emulator tests: an app receiver and an installed app with tokens."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.emu._receiver import Receiver


@pytest.fixture
def receiver():
    with Receiver() as rec:
        yield rec


class RestClient:
    """OAuth REST calls as an app would make them (JSON body with ``auth``)."""

    def __init__(self, rest_url: str, token: str) -> None:
        self.rest_url = rest_url
        self.token = token

    def raw(self, method: str, params: dict[str, Any] | None = None) -> requests.Response:
        return requests.post(
            self.rest_url + method, json={**(params or {}), "auth": self.token}, timeout=30
        )

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        resp = self.raw(method, params)
        assert resp.status_code == 200, resp.text
        return resp.json()["result"]


@pytest.fixture
def installed_app(emulator, receiver):
    """An API-only app installed by admin 1, with its app-side receiver and a token client."""
    app = emulator.register_app(
        scopes=["crm", "bizproc", "placement", "user_brief", "task"],
        install_event_url=receiver.url("install"),
    )
    emulator.admin.post(f"apps/{app['client_id']}/install", {"user_id": 1})
    tokens = emulator.admin.post(f"apps/{app['client_id']}/tokens", {"user_id": 1})
    app["rest"] = RestClient(emulator.rest_url, tokens["access_token"])
    app["tokens"] = tokens
    app["application_token"] = emulator.portal.core.apps[app["client_id"]].application_token
    return app
