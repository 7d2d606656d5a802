"""A metal portal for end-to-end tests: the emulator, the real installer (metal), our Flask
app over HTTP receiving the portal's events, a real RQ SimpleWorker (burst) for the events
queue, and employees acting through the emulator's admin API."""

from __future__ import annotations

import requests

from tests.app._robots_world import install_app
from tests.support.live_app import LiveApp
from tests.support.workers import work_until_idle

SCOPES = [
    "crm",
    "bizproc",
    "im",
    "user_brief",
    "userfieldconfig",
    "placement",
    "task",
    "imopenlines",
    "department",
]  # as app/devrun.py's APP_SCOPES: the b2b survey finds a manager's head by department


def metal_world(tmp_path, redis_url):
    """Generator for a fixture: yields a :class:`MetalWorld`."""
    yield from portal_world(tmp_path, redis_url, playbooks=["metal"], world_class=MetalWorld)


def portal_world(
    tmp_path, redis_url, *, playbooks, world_class, settings=None, db_url=None, emu_config=None
):
    """Generator for a fixture: the emulator with our app installed through OAuth, the given
    playbooks applied by the real installer, ``settings`` ({playbook: {key: value}}) stored
    as the portal's overrides; yields ``world_class(emu, services, token, naming)``.
    ``db_url`` (default: a SQLite file) must be an empty database; ``emu_config`` overrides
    the emulator's configuration (e.g. its limits).

    Client channels are connected as an admin would: a shared CRM mailbox on the portal and
    a fake SMS.ru gateway (``world.sms``) set as every playbook's SMS provider."""
    from tests.support.fake_smsru import FakeSmsRu

    sms = FakeSmsRu("e2e-sms-key")
    channel_settings = {
        "sms_provider": "smsru",
        "sms_api_id": "e2e-sms-key",
        "sms_api_url": sms.url,
        "sms_sender": "SHOP",
    }
    settings = {pb: {**channel_settings, **(settings or {}).get(pb, {})} for pb in playbooks}
    try:
        yield from _portal_world(
            tmp_path, redis_url, playbooks, world_class, settings, sms, db_url, emu_config
        )
    finally:
        sms.stop()


def _portal_world(tmp_path, redis_url, playbooks, world_class, settings, sms, db_url, emu_config):
    import app.services as services_module
    from app.installers.run import install_playbooks
    from app.playbooks.settings import set_value
    from app.services import Services
    from app.store.migrate import upgrade
    from app.sync.context import portal_context
    from app.web import create_app
    from b24emu.testing import running_emulator
    from config.settings import Settings

    db_url = db_url or f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(db_url)
    server = LiveApp()  # the port is held from now on; the app is mounted once it exists
    port = server.port
    with running_emulator(**(emu_config or {})) as emu:
        registered = emu.register_app(scopes=SCOPES)
        services = Services(
            Settings(
                database_url=db_url,
                redis_url=redis_url,
                var_dir=str(tmp_path / "var"),
                emulator_address=emu.domain,
                bx24_js_url=f"{emu.base_url}/_emu/bx24.js",
                app_base_url=f"http://127.0.0.1:{port}",
                b24_client_id=registered["client_id"],
                b24_client_secret=registered["client_secret"],
            )
        )
        previous = services_module.use(services)
        flask_app = create_app(services=services)
        server.mount(flask_app)
        tokens = install_app(emu, services, registered, playbooks)
        app_state = emu.portal.core.apps[registered["client_id"]]
        if settings:
            with services.session() as s:
                for playbook, values in settings.items():
                    for key, value in values.items():
                        set_value(s, emu.portal.member_id, playbook, key, value)
                s.commit()
        install_playbooks(services, emu.portal.member_id, list(playbooks))
        naming = portal_context(services, emu.portal.member_id).naming
        world = world_class(emu, services, tokens["access_token"], naming)
        world.app, world.app_token = flask_app, app_state.application_token
        world.sms = sms
        emu.admin.post("mail/mailboxes", {"shared": True, "email": "crm@shop.example.ru"})
        world.settle()  # the installer's own writes
        try:
            yield world
        finally:
            server.stop()
            services_module.use(previous)
            services.close()


class MetalWorld:
    def __init__(self, emu, services, token, naming):
        self.emu, self.services, self.token = emu, services, token
        self.member_id = emu.portal.member_id
        self.naming = naming

    @property
    def object_etid(self):
        return self.naming.entity_type_id("metal.object")

    # -- employees --------------------------------------------------------------------------
    def rest(self, method, params):
        """What the portal answers a user (user 1) — used to read the portal's state."""
        body = requests.post(
            self.emu.rest_url + method, json={**params, "auth": self.token}, timeout=30
        ).json()
        assert "error" not in body, body
        return body["result"]

    def lead_from(self, source, *, user_id=1, **fields):
        body = {"source": source, "user_id": user_id}
        for key in ("title", "name", "phone", "email"):
            if key in fields:
                body[key] = fields.pop(key)
        body["fields"] = fields
        return int(self.emu.admin.post("crm/lead", body)["id"])

    def add(self, etid, fields, user_id=1):
        body = {"entity_type_id": etid, "fields": fields, "user_id": user_id}
        return int(self.emu.admin.post("crm/items", body)["id"])

    def move(self, etid, record_id, stage_code, entity, user_id=1):
        stage = self.naming.stage_id(entity, stage_code)
        body = {"entity_type_id": etid, "id": record_id, "stage_id": stage, "user_id": user_id}
        self.emu.admin.post("crm/move", body)

    def activity(self, fields, user_id=1):
        return self.emu.admin.post("crm/activity", {"fields": fields, "user_id": user_id})

    # -- names --------------------------------------------------------------------------------
    def uf(self, entity, code):
        return self.naming.field_name(entity, code)

    def purpose(self, entity, option):
        prefix = "UF_CRM_OBJ_PURPOSE" if entity == "metal.object" else "UF_CRM_MT_PURPOSE"
        return self.naming.enum_id(prefix, option, entity=entity)

    def stage(self, entity, code):
        return self.naming.stage_id(entity, code)

    # -- the app ------------------------------------------------------------------------------
    def settle(self, rounds=4, *, retries=False):
        """Let the portal's event POSTs arrive and a real worker drain the queues, until quiet
        (our own writes come back as events once). ``retries``: also run failed jobs'
        scheduled retries (``tests.support.workers.work_until_idle``)."""
        queues = [self.services.queue(n) for n in ("events", "sync")]
        for _ in range(rounds):
            self.emu.wait_deliveries(10)
            scheduled = sum(q.scheduled_job_registry.count for q in queues) if retries else 0
            if not sum(q.count for q in queues) and not scheduled:
                break
            # also runs drains handed back meanwhile
            work_until_idle(self.services, retries=retries)

    # -- reading the portal ---------------------------------------------------------------------
    def item(self, etid, record_id):
        return self.rest("crm.item.get", {"entityTypeId": etid, "id": record_id})["item"]

    def items(self, etid, filter_=None):
        """Every item, page after page (``crm.item.list`` answers 50 a page, ``next`` says
        where the following page starts)."""
        out, start = [], 0
        while True:
            body = requests.post(
                self.emu.rest_url + "crm.item.list",
                json={"entityTypeId": etid, "filter": filter_ or {}, "order": {"id": "ASC"},
                      "start": start, "auth": self.token},
                timeout=30,
            ).json()  # fmt: skip
            assert "error" not in body, body
            out += body["result"]["items"]
            if body.get("next") is None:
                return out
            start = body["next"]

    def notifications(self, user_id):
        return [
            n.get("message") if isinstance(n, dict) else str(n)
            for n in self.emu.portal.crm.notifications_for(user_id)
        ]

    def sent(self, kind=None):
        """What the portal sent: e-mails, open-line and chat messages (``GET /_emu/sent``)."""
        return self.emu.admin.get("sent", **({"kind": kind} if kind else {}))

    def comments(self, entity, record_id):
        rows = self.rest(
            "crm.timeline.comment.list",
            {"filter": {"ENTITY_ID": record_id, "ENTITY_TYPE": entity}},
        )
        return [r["COMMENT"] for r in rows]
