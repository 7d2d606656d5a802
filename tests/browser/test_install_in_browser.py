"""An admin installs the app from the portal in a real browser: the installer page opens in
the portal's frame, shows the progress of the install job a real RQ worker runs, and calls
``BX24.installFinish()`` when done — after which the portal sends ONAPPINSTALL and the
playbook's stages exist on the portal. (The install page: app/handlers/install.py.)"""

from __future__ import annotations

import pytest
import requests
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from app.devrun import APP_SCOPES
from app.queues import QUEUES
from app.store import installations
from b24emu.testing import running_emulator
from tests.support.live_app import LiveApp

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _drain(services) -> None:
    """One burst of a real RQ worker over every queue (in the main thread: RQ installs
    signal handlers), as `make run`'s workers would process the jobs."""
    queues = [services.queue(n) for n in QUEUES]
    SimpleWorker(queues, connection=services.redis, serializer=JSONSerializer).work(burst=True)


@pytest.fixture
def fresh_portal(make_services):
    """The emulator with our app registered (installer, handler and event URLs) and the app
    serving over HTTP, nothing installed yet."""
    from app.web import create_app

    server = LiveApp()  # held now, the app mounted once its settings know this URL
    port = server.port
    base = f"http://127.0.0.1:{port}"
    with running_emulator() as emu:
        reg = emu.register_app(
            scopes=APP_SCOPES,
            installer_url=f"{base}/install",
            handler_url=f"{base}/",
            install_event_url=f"{base}/app-events",
        )
        svc = make_services(
            emulator_address=emu.domain,
            bx24_js_url=f"{emu.base_url}/_emu/bx24.js",
            app_base_url=base,
            b24_client_id=reg["client_id"],
            b24_client_secret=reg["client_secret"],
            playbooks=("metal",),
        )
        server.mount(create_app(services=svc))
        try:
            yield emu, svc, reg
        finally:
            server.stop()


def test_admin_installs_from_the_portal_page_and_the_playbook_is_there(fresh_portal, browser):
    from tests.browser.conftest import PortalPage

    emu, svc, reg = fresh_portal
    page = PortalPage(browser, emu, reg["client_id"])
    browser.get(f"{emu.base_url}/_emu/apps/{reg['client_id']}/frame?install=1")
    browser.switch_to.frame(browser.find_element("id", "app-frame"))
    # the page follows the install job, then hands over to the portal
    browser.switch_to.default_content()

    def finished(driver) -> bool:
        _drain(svc)  # the worker runs between the browser's polls
        body = driver.find_element("tag name", "body")
        return body.get_attribute("data-install-finished") == "1"

    page.wait(finished, timeout=90)
    browser.switch_to.frame(browser.find_element("id", "app-frame"))
    assert "Error" not in page.text()
    page.screenshot("install-finished")
    assert emu.portal.core.apps[reg["client_id"]].installed is True
    with svc.session() as s:
        row = installations.get(s, emu.portal.member_id)
        assert row.status == "active" and list(row.playbooks) == ["metal"]
    # the playbook's lead stages were created on the portal by the install job
    tokens = emu.admin.post(f"apps/{reg['client_id']}/tokens", {"user_id": 1})
    statuses = requests.post(
        f"{emu.rest_url}crm.status.list",
        json={"auth": tokens["access_token"], "filter": {"ENTITY_ID": "STATUS"}},
        timeout=10,
    ).json()["result"]
    assert len(statuses) > 3
