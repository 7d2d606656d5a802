"""Browser tests: the app's pages in headless Chromium, opened the way the portal opens them.

Chromium and ChromeDriver come from Debian's packages (``chromium``, ``chromium-driver``;
``.ci/run`` installs them), driven by Selenium with the system driver — no browser download.
Where they are missing, the tests skip with the reason, unless ``REQUIRE_BROWSER=1`` (set by
``.ci/run``) turns the skip into a failure, so CI cannot pass without having run them.

A page is opened through the emulator's portal page (``/_emu/apps/<id>/frame``, see
``b24emu/frame_host.py``): a real form POST into an ``<iframe>``, as the portal does, with
the emulator's BX24 stand-in loaded by the page.
"""

from __future__ import annotations

import json
import os
import shutil
from urllib.parse import urlencode

import pytest

# the app tier's store fixtures (a migrated database per backend, Services on it)
from tests.app.conftest import (  # noqa: F401
    _migrated_database,
    database_url,
    make_services,
)

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BINARY", "/usr/bin/chromedriver")


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (requirements-dev.txt)"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(path) or shutil.which(path)):
            return f"{path} not found: apt-get install chromium chromium-driver"
    return None


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (pages are opened in fresh frames per test)."""
    reason = _missing()
    if reason:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required but {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root in a container
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--lang=ru",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


class PortalPage:
    """The portal page around one app frame, with helpers to look inside the frame."""

    def __init__(self, driver, emu, client_id: str) -> None:
        self.driver, self.emu, self.client_id = driver, emu, client_id

    def open(
        self,
        placement: str = "DEFAULT",
        options: dict | None = None,
        *,
        handler: str | None = None,
        lang: str | None = None,
        user_id: int = 1,
    ):
        """Open ``placement`` as ``user_id`` and switch into the app's frame."""
        query = {"placement": placement, "user_id": str(user_id)}
        if options is not None:
            query["options"] = json.dumps(options)
        if handler:
            query["handler"] = handler
        if lang:
            query["lang"] = lang
        self.driver.switch_to.default_content()
        self.driver.get(f"{self.emu.base_url}/_emu/apps/{self.client_id}/frame?{urlencode(query)}")
        frame = self.driver.find_element("id", "app-frame")
        self.driver.switch_to.frame(frame)
        self.wait(lambda d: d.execute_script("return document.readyState") == "complete")
        self.wait(
            lambda d: d.execute_script(
                "return !!document.body && document.body.children.length > 0"
            )
        )
        return self

    def wait(self, condition, timeout: float = 15):
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout).until(condition)

    def text(self) -> str:
        return self.driver.find_element("tag name", "body").text

    def css(self, selector: str):
        return self.driver.find_element("css selector", selector)

    def all(self, selector: str):
        return self.driver.find_elements("css selector", selector)

    def frame_height(self) -> int:
        """The iframe's height as the portal page set it (after BX24.fitWindow)."""
        self.driver.switch_to.default_content()
        try:
            return int(
                self.driver.execute_script(
                    "return parseInt(document.getElementById('app-frame').style.height || 0)"
                )
            )
        finally:
            self.driver.switch_to.frame(self.driver.find_element("id", "app-frame"))

    def screenshot(self, name: str) -> None:
        """Save a PNG of the whole portal page into SCREENSHOTS_DIR (``make screenshots``)."""
        folder = os.environ.get("SCREENSHOTS_DIR")
        if not folder:
            return
        os.makedirs(folder, exist_ok=True)
        self.driver.switch_to.default_content()
        try:
            self.driver.save_screenshot(os.path.join(folder, f"{name}.png"))
        finally:
            self.driver.switch_to.frame(self.driver.find_element("id", "app-frame"))


@pytest.fixture
def portal_page(browser):
    """``portal_page(world)`` → a :class:`PortalPage` for the world's emulator and app."""

    def make(world) -> PortalPage:
        (client_id,) = list(world.emu.portal.core.apps)
        return PortalPage(browser, world.emu, client_id)

    return make
