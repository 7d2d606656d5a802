"""Shared set-up of the robot tests: an OAuth app installed on a running emulator, the app's
installation stored, robots registered from their SPEC, and robot POSTs built from the
documented payload files (``docs/payloads/robot_handler_post_*.json``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from rq import SimpleWorker
from rq.serializers import JSONSerializer

from tests.shared_docs import SHARED_PAYLOADS

PAYLOADS = SHARED_PAYLOADS
SCOPES = ["crm", "bizproc", "im", "user_brief", "userfieldconfig", "placement", "task"]
DEAD_HANDLER = "http://127.0.0.1:9/robots/"  # the emulator's own POST fails fast: tests post


def payload(name: str) -> dict:
    return json.loads((PAYLOADS / f"robot_handler_post_{name}.json").read_text())


def flatten(value, prefix: str = "") -> list[tuple[str, str]]:
    """A nested payload → PHP bracket-form pairs, like the portal's http_build_query."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return [(prefix, "" if value is None else str(value))]
    out = []
    for key, sub in items:
        out.extend(flatten(sub, f"{prefix}[{key}]" if prefix else str(key)))
    return out


def encode(body: dict) -> str:
    return urlencode(flatten(body))


class RobotWorld:
    """The emulator, the app's Services and Flask client, and an installed OAuth app."""

    def __init__(self, emu, services, client, tokens, playbooks):
        self.emu, self.services, self.client = emu, services, client
        self.token = tokens["access_token"]
        self.member_id = emu.portal.member_id
        self.playbooks = playbooks
        self.app_state = next(iter(emu.portal.core.apps.values()))

    # -- portal side ---------------------------------------------------------------------
    def rest(self, method, params=None):
        """A call as the installed app (our gateway client)."""
        return self.services.portal(self.member_id).call(method, params or {})

    def register(self, spec, handler=DEAD_HANDLER):
        self.rest("bizproc.robot.add", spec.wire(handler + spec.code))

    def mint_call(self, code, etid, item_id, properties=None, timeout=600, stage="NEW"):
        """Let the emulator start a run of ``code`` (as if a record entered ``stage``) and
        return the run; the emulator's own POST goes to a dead handler."""
        self.emu.admin.post(
            "robots/place",
            {
                "entity_type_id": etid,
                "stage_id": stage,
                "code": code,
                "properties": properties or {},
                "timeout": timeout,
            },
        )
        runs = self.emu.admin.post(
            "robots/stage_entered",
            {"entity_type_id": etid, "id": item_id, "stage_id": stage, "user_id": 1},
        )
        return runs[-1]

    def runs(self, code=None):
        return [r for r in self.emu.admin.get("robot_runs") if code is None or r["code"] == code]

    def item(self, etid, item_id):
        return self.rest("crm.item.get", {"entityTypeId": etid, "id": item_id})["item"]

    # -- app side ------------------------------------------------------------------------
    def body(self, name, code, *, document, event_token, properties, **overrides):
        """A documented payload with this portal's identity, the minted token and a document."""
        data = payload(name)
        data["code"] = code
        data["document_id"] = list(document)
        data["document_type"] = [document[0], document[1], document[2].rsplit("_", 1)[0]]
        data["event_token"] = event_token
        data["properties"] = properties
        data["ts"] = str(int(self.emu.portal.clock.now()))
        data["auth"].update(
            member_id=self.member_id,
            application_token=self.app_state.application_token,
            domain=self.emu.domain,
            client_endpoint=self.emu.rest_url,
            access_token=self.token,  # the robot user's token the portal passes (AUTH_USER_ID)
            expires_in="3600",
        )
        data.update(overrides)
        return data

    def post(self, code, body, raw=None):
        return self.client.post(
            f"/robots/{code}",
            data=raw if raw is not None else encode(body),
            content_type="application/x-www-form-urlencoded",
        )

    def queued(self):
        return self.services.queue("robots").count

    def work(self):
        worker = SimpleWorker(
            [self.services.queue("robots")],
            connection=self.services.redis,
            serializer=JSONSerializer,
        )
        worker.work(burst=True)
        return worker


def register_app(emu, scopes=None) -> dict:
    """A local OAuth app on the emulator (client id and secret), not installed yet."""
    return emu.register_app(scopes=scopes or SCOPES)


def install_app(emu, services, registered, playbooks=("metal",)) -> dict:
    """Install the registered app as user 1 and store its installation the way the app's
    install flow would (tokens, application token, playbooks); returns the tokens."""
    from app.store import installations

    emu.admin.post(f"apps/{registered['client_id']}/install", {"user_id": 1})
    tokens = emu.admin.post(f"apps/{registered['client_id']}/tokens", {"user_id": 1})
    app_state = emu.portal.core.apps[registered["client_id"]]
    with services.session() as s:
        installations.upsert_verified(
            s,
            emu.portal.member_id,
            domain=emu.domain,
            client_endpoint=emu.rest_url,
            server_endpoint=emu.base_url + "/rest/",
            auth_mode="oauth",
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            expires_at=datetime.now(UTC) + timedelta(hours=1),
            application_token=app_state.application_token,
            status="active",
            playbooks=list(playbooks),
        )
        s.commit()
    return tokens


def app_settings(emu, registered, app_base_url) -> dict:
    """The Settings overrides of an app talking to this emulator as ``registered``."""
    return {
        "emulator_address": emu.domain,
        "b24_client_id": registered["client_id"],
        "b24_client_secret": registered["client_secret"],
        "app_base_url": app_base_url,
    }


def build_world(emu, make_services, playbooks=("metal",), scopes=None, app_base_url=None):
    from app.web import create_app

    registered = register_app(emu, scopes)
    services = make_services(
        **app_settings(emu, registered, app_base_url or DEAD_HANDLER.rsplit("/robots/", 1)[0])
    )
    tokens = install_app(emu, services, registered, playbooks)
    client = create_app(services=services).test_client()
    return RobotWorld(emu, services, client, tokens, playbooks)


def install(world, names=("metal",)):
    """Run the real installer (fields, stages, smart process, robots of the playbooks)."""
    from app.installers.run import install_playbooks

    return install_playbooks(world.services, world.member_id, list(names))


def set_setting(world, playbook, key, value):
    from app.playbooks.settings import set_value

    with world.services.session() as s:
        set_value(s, world.member_id, playbook, key, value)
        s.commit()


DOCS = {1: ("CCrmDocumentLead", "LEAD"), 2: ("CCrmDocumentDeal", "DEAL"),
        3: ("CCrmDocumentContact", "CONTACT"), 4: ("CCrmDocumentCompany", "COMPANY")}  # fmt: skip


def document_of(etid, item_id):
    """The bizproc DOCUMENT_ID the portal posts for a CRM item (smart processes included)."""
    if etid in DOCS:
        cls, prefix = DOCS[etid]
        return ["crm", cls, f"{prefix}_{item_id}"]
    return [
        "crm",
        "Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic",
        f"DYNAMIC_{etid}_{item_id}",
    ]


def run_robot(world, code, etid, item_id, properties=None):
    """Call robot ``code`` on an item the way the portal does (the recorded robot POST,
    re-addressed), let the worker answer, and return the emulator's record of the run."""
    run = world.mint_call(code, etid, item_id)
    body = world.body(
        "lead",
        code,
        document=document_of(etid, item_id),
        event_token=run["event_token"],
        properties=properties or {},
    )
    assert world.post(code, body).status_code == 200
    world.work()
    return next(r for r in world.runs() if r["event_token"] == run["event_token"])
