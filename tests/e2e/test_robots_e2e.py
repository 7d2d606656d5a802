"""End to end: a lead enters a stage on the emulator → the portal POSTs the robot call to our
Flask app over HTTP → Redis/RQ → a real worker (the app's own worker composition) → the
robot answers with bizproc.event.send and writes the lead → the emulator shows the run
completed. The portal was set up by the real installer (metal playbook), which also
registered the robots with handler ``<app>/robots/<code>``.
"""

from __future__ import annotations

import pytest
import requests

from tests.app._robots_world import app_settings, install_app, register_app
from tests.support.live_app import LiveApp

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(tmp_path, redis_url):
    import app.services as services_module
    from app.installers.run import install_playbooks
    from app.services import Services
    from app.store.migrate import upgrade
    from app.sync.context import portal_context
    from app.web import create_app
    from b24emu.testing import running_emulator
    from config.settings import Settings

    db_url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(db_url)
    server = LiveApp()  # the app's URL must be known before Services (robot handlers use it)
    port = server.port
    with running_emulator() as emu:
        registered = register_app(emu)
        services = Services(
            Settings(
                database_url=db_url,
                redis_url=redis_url,
                var_dir=str(tmp_path / "var"),
                **app_settings(emu, registered, f"http://127.0.0.1:{port}"),
            )
        )
        previous = services_module.use(services)
        server.mount(create_app(services=services))
        tokens = install_app(emu, services, registered, ("metal",))
        install_playbooks(services, emu.portal.member_id, ["metal"])
        try:
            yield World(emu, services, server, tokens["access_token"], portal_context)
        finally:
            server.stop()
            services_module.use(previous)
            services.close()


class World:
    def __init__(self, emu, services, server, token, portal_context):
        self.emu, self.services, self.server, self.token = emu, services, server, token
        self.member_id = emu.portal.member_id
        self.naming = portal_context(services, self.member_id).naming

    def rest(self, method, params):
        """A portal user (user 1) working in the CRM."""
        body = requests.post(
            self.emu.rest_url + method, json={**params, "auth": self.token}, timeout=30
        ).json()
        assert "error" not in body, body
        return body["result"]

    def uf(self, code):
        return self.naming.field_name("lead", code)

    def settle(self):
        """Wait for the portal's POSTs, then let a real worker drain the robots queue."""
        from app.worker import build_worker

        self.emu.wait_deliveries(10)
        build_worker(self.services, ["robots"]).work(burst=True)

    def robot_posts(self):
        return [d for d in self.emu.portal.core.deliveries if d.kind == "robot"]

    def calls(self, method):
        return self.emu.admin.get("requests")["calls"].get(method, 0)


def test_lead_entering_a_stage_runs_the_robots_over_http_once(world):
    stage = world.naming.stage_id("lead", "metal.lead.data_complete")
    world.emu.admin.post(
        "robots/place",
        {
            "entity_type_id": 1,
            "stage_id": stage,
            "code": "calc_area",
            "properties": {
                "length": "{=Document:UF_CRM_MT_LENGTH}",
                "width": "{=Document:UF_CRM_MT_WIDTH}",
                "density": "0.035",
                "area_field": "UF_CRM_MT_AREA",
            },
            "timeout": 600,
        },
    )
    world.emu.admin.post(
        "robots/place",
        {
            "entity_type_id": 1,
            "stage_id": stage,
            "code": "title_by_template",
            "properties": {"template": "Объект · {site}"},
            "timeout": 600,
        },
    )
    lead_id = world.rest(
        "crm.item.add",
        {
            "entityTypeId": 1,
            "fields": {
                "title": "Заявка с сайта",
                world.uf("UF_CRM_MT_LENGTH"): 24,
                world.uf("UF_CRM_MT_WIDTH"): 12.5,
                world.uf("UF_CRM_MT_SITE"): "Казань",
            },
        },
    )["item"]["id"]
    world.rest("crm.item.update", {"entityTypeId": 1, "id": lead_id, "fields": {"stageId": stage}})
    world.settle()

    posts = world.robot_posts()
    assert sorted(p.name for p in posts) == ["calc_area", "title_by_template"]
    assert all(p.status == "delivered" and p.http_status == 200 for p in posts)
    runs = {r["code"]: r for r in world.emu.admin.get("robot_runs")}
    assert runs["calc_area"]["status"] == "completed"
    assert runs["calc_area"]["return_values"] == {"area": 300.0, "tonnage": 10.5, "error": ""}
    assert runs["title_by_template"]["status"] == "completed"
    assert runs["title_by_template"]["return_values"]["title"] == "Объект · Казань"
    lead = world.rest("crm.item.get", {"entityTypeId": 1, "id": lead_id})["item"]
    assert lead[world.uf("UF_CRM_MT_AREA")] == 300.0
    assert lead["title"] == "Объект · Казань"

    # the portal's exact POSTs replayed three times each: no new writes, no new answers
    updates, sends = world.calls("crm.item.update"), world.calls("bizproc.event.send")
    assert sends == 2
    for post in posts:
        for _ in range(3):
            resp = requests.post(
                post.url,
                data=post.body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=10,
            )
            assert resp.status_code == 200
    world.settle()
    assert (world.calls("crm.item.update"), world.calls("bizproc.event.send")) == (updates, sends)
    after = world.rest("crm.item.get", {"entityTypeId": 1, "id": lead_id})["item"]
    assert after["updatedTime"] == lead["updatedTime"]


def test_a_forged_robot_post_is_refused_and_nothing_runs(world):
    stage = world.naming.stage_id("lead", "metal.lead.data_complete")
    world.emu.admin.post(
        "robots/place",
        {"entity_type_id": 1, "stage_id": stage, "code": "title_by_template",
         "properties": {"template": "{title}!"}, "timeout": 600},
    )  # fmt: skip
    lead_id = world.rest("crm.item.add", {"entityTypeId": 1, "fields": {"title": "T"}})["item"][
        "id"
    ]
    world.emu.admin.post("crm/move", {"entity_type_id": 1, "id": lead_id, "stage_id": stage})
    world.emu.wait_deliveries(10)
    (post,) = world.robot_posts()
    forged = post.body.replace(
        world.emu.portal.core.apps[next(iter(world.emu.portal.core.apps))].application_token,
        "f" * 32,
    )
    resp = requests.post(
        post.url, data=forged, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert resp.status_code == 401
    assert world.services.queue("robots").count == 1  # only the portal's own call
