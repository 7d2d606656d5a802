"""A webhook-mode portal (the emulator) with the metal playbook installed, the fake SMS.ru
gateway, and helpers to send MessageClient actions through apply → outbox → a real RQ
worker, then read what the portal and the gateway received."""

from __future__ import annotations

from rq import SimpleWorker
from rq.serializers import JSONSerializer

from app.rules import actions as A
from app.store import installations, outbox
from tests.support.fake_smsru import FakeSmsRu

M = "member-channels"
KEY = "test-key"


class ChannelsWorld:
    def __init__(self, services, emu, sms: FakeSmsRu):
        from app.sync.context import portal_context

        self.services, self.emu, self.sms = services, emu, sms
        self.ctx = lambda: portal_context(services, M)

    # -- the portal's side -------------------------------------------------------------
    def lead(self, title="Заявка", **fields) -> int:
        body = {"source": "manual", "title": title, "user_id": 1}
        for key in ("name", "phone", "email"):
            if key in fields:
                body[key] = fields.pop(key)
        body["fields"] = fields
        return int(self.emu.admin.post("crm/lead", body)["id"])

    def settings(self, **values):
        from app.playbooks.settings import set_value

        with self.services.session() as s:
            for key, value in values.items():
                set_value(s, M, "metal", key, value)
            s.commit()

    def sent(self, kind=None):
        return self.emu.admin.get("sent", **({"kind": kind} if kind else {}))

    def comments(self, lead_id):
        rows = self.ctx().client.call(
            "crm.timeline.comment.list", {"filter": {"ENTITY_ID": lead_id, "ENTITY_TYPE": "lead"}}
        )
        return [r["COMMENT"] for r in rows or []]

    def activities(self, lead_id):
        return self.ctx().client.call(
            "crm.activity.list",
            {
                "filter": {"OWNER_TYPE_ID": 1, "OWNER_ID": lead_id},
                "select": ["*", "COMMUNICATIONS"],
            },
        )

    # -- our side ----------------------------------------------------------------------
    def message(self, lead_id, channel="sms", text="Здравствуйте!", *, cause="c1", **kw):
        from app.rules.apply import apply_with

        ctx = self.ctx()
        action = A.MessageClient(channel, ("lead", lead_id), kw.pop("subject", "Тема"), text, **kw)
        return apply_with(
            ctx.session_factory, ctx.client, ctx.naming, M, [action],
            cause=cause, rule="metal.test_message", record=("lead", lead_id),
        )  # fmt: skip

    def work(self):
        queue = self.services.queue("events")
        SimpleWorker([queue], connection=self.services.redis, serializer=JSONSerializer).work(
            burst=True
        )

    def rows(self, lead_id):
        with self.services.session() as s:
            return [
                {c: getattr(r, c) for c in ("id", "state", "channel", "recipient", "error",
                                            "provider_id", "attempts", "text", "detail")}
                for r in outbox.for_record(s, M, "lead", lead_id)
            ]  # fmt: skip


def channels_world(tmp_path, redis_url, database_url=None):
    """Generator for a fixture (see the module doc); ``database_url``: an already migrated
    database (the app tier's backends), else a fresh SQLite file."""
    import app.services as services_module
    from app.installers.run import install_playbooks
    from app.services import Services
    from app.store.migrate import upgrade
    from b24emu.testing import running_emulator
    from config.settings import Settings

    db_url = database_url or f"sqlite:///{tmp_path / 'app.db'}"
    if database_url is None:
        upgrade(db_url)
    sms = FakeSmsRu(KEY)
    with running_emulator() as emu:
        services = Services(
            Settings(database_url=db_url, redis_url=redis_url, emulator_address=emu.domain,
                     var_dir=str(tmp_path / "var"))
        )  # fmt: skip
        previous = services_module.use(services)
        with services.session() as s:
            installations.upsert_verified(
                s, M, domain=emu.domain, auth_mode="webhook", webhook_url=emu.webhook_url(),
                playbooks=["metal"],
            )  # fmt: skip
            s.commit()
        install_playbooks(services, M, ["metal"])
        world = ChannelsWorld(services, emu, sms)
        world.settings(sms_provider="smsru", sms_api_id=KEY, sms_api_url=sms.url, sms_sender="SHOP")
        emu.admin.post("mail/mailboxes", {"user_id": 1, "email": "manager@shop.ru"})
        try:
            yield world
        finally:
            services_module.use(previous)
            services.close()
            sms.stop()
