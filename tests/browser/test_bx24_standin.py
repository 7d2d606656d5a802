"""The emulator's BX24 stand-in behaves as the vendor's library is documented to, in a real
browser where the app's frame and the portal page are on different origins (so the library
can only talk to the portal page through ``postMessage``):

* ``BX24.getAuth()`` answers the frame user's token with ``expires_in`` as the moment it
  expires in ms since the epoch, and ``false`` once it expired
  (sdk/bx24-js-sdk/system-functions/bx24-get-auth.md);
* ``BX24.refreshAuth(cb)`` gets a new pair and passes it to ``cb``; ``getAuth`` then answers
  it (sdk/bx24-js-sdk/system-functions/bx24-refresh-auth.md).

Our pages renew their bearer with these (``app.widgets._page_js``); a stand-in more lenient
than the docs (a token that never expires) would hide a page that stops working."""

from __future__ import annotations

import time

import pytest

# the metal portal whose app opens its settings page in the DEFAULT placement
from tests.browser.test_settings_page import world  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _auth(browser):
    return browser.execute_script("return window.BX24 ? BX24.getAuth() : 'no library';")


def _refreshed(browser):
    return browser.execute_async_script(
        "var done = arguments[arguments.length - 1]; BX24.refreshAuth(done);"
    )


def test_get_auth_expires_as_documented_and_refresh_auth_brings_a_new_pair(
    world,  # noqa: F811
    portal_page,
    browser,
):
    w = world
    w.emu.configure(access_token_lifetime=4)  # the frame's token lives 4 s
    try:
        page = portal_page(w).open("DEFAULT", lang="en", user_id=1)
        page.wait(lambda d: "Sales automation: settings" in page.text())
        page.wait(lambda d: isinstance(_auth(browser), dict))  # BX24.init got the frame's data
        first = _auth(browser)
        now_ms = browser.execute_script("return Date.now();")
        assert first["member_id"] == w.member_id and first["domain"] == w.emu.domain
        assert now_ms < first["expires_in"] <= now_ms + 4000  # a moment in ms, not a lifetime
        token = w.emu.portal.core.tokens[first["access_token"]]
        assert token.user_id == 1  # the frame user's own token

        time.sleep(4.5)
        assert _auth(browser) is False  # expired: false, as the docs say

        fresh = _refreshed(browser)
        assert fresh["access_token"] != first["access_token"]
        assert fresh["refresh_token"] != first["refresh_token"]
        assert w.emu.portal.core.tokens[fresh["access_token"]].user_id == 1
        assert _auth(browser)["access_token"] == fresh["access_token"]
    finally:
        w.emu.configure(access_token_lifetime=3600)
