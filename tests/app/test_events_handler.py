"""POST /events through Flask: real parsing, store lookup, Redis claims and RQ enqueue."""

import json
import random
from urllib.parse import urlencode

import pytest

from app.store import installations
from tests.app._events_fakes import PAYLOADS

MEMBER = "a223c6b3710f85df22e9377d6c4f7553"
APP_TOKEN = "51856fefc120afa4b628cc82d3935cce"
HOOK_TOKEN = "jvh9y1ulvt2m6k5or90v9mg8nn32ozas"


def raw(name):
    return (PAYLOADS / f"{name}.form-urlencoded.txt").read_text().strip()


def post(client, body):
    return client.post("/events", data=body, content_type="application/x-www-form-urlencoded")


def queued(services, name="events"):
    return [(j.func_name, j.args) for j in services.queue(name).get_jobs()]


def flatten(value, prefix=""):
    out = []
    for key, val in value.items():
        name = f"{prefix}[{key}]" if prefix else key
        out.extend(flatten(val, name) if isinstance(val, dict) else [(name, val)])
    return out


@pytest.fixture
def installed(services):
    with services.session() as s:
        installations.upsert_verified(
            s, MEMBER, domain="example.bitrix24.com", application_token=APP_TOKEN, status="active"
        )
        s.commit()
    return services


def test_app_event_is_enqueued_once_and_replays_change_nothing(flask_client, installed):
    body = raw("event_ONCRMLEADADD_app")
    assert post(flask_client, body).status_code == 200
    for _ in range(3):
        assert post(flask_client, body).status_code == 200
    assert queued(installed) == [("app.jobs.events.process_change", [MEMBER, "lead", 1000983])]


def test_outgoing_webhook_installation_accepts_its_own_token(flask_client, services):
    with services.session() as s:
        installations.upsert_verified(
            s,
            MEMBER,
            domain="example.bitrix24.com",
            application_token=HOOK_TOKEN,
            auth_mode="webhook",
            status="active",
        )
        s.commit()
    assert post(flask_client, raw("event_ONCRMDEALDELETE_outgoing_webhook")).status_code == 200
    assert post(flask_client, raw("event_ONCRMLEADADD_app")).status_code == 401
    assert queued(services) == [("app.jobs.events.process_change", [MEMBER, "deal", 1050732])]


def test_rotated_token_is_accepted_immediately_and_the_old_one_refused(flask_client, installed):
    form = json.loads((PAYLOADS / "event_ONCRMLEADADD_app.json").read_text())
    assert post(flask_client, urlencode(flatten(form))).status_code == 200  # warms the cache
    with installed.session() as s:
        installations.upsert_verified(s, MEMBER, application_token="f" * 32)
        s.commit()
    form["auth"]["application_token"] = "f" * 32
    form["data"]["FIELDS"]["ID"] = "77"
    assert post(flask_client, urlencode(flatten(form))).status_code == 200
    form["auth"]["application_token"] = APP_TOKEN
    form["data"]["FIELDS"]["ID"] = "78"
    assert post(flask_client, urlencode(flatten(form))).status_code == 401
    assert [a[2] for _, a in queued(installed)] == [1000983, 77]


def test_uninstalled_portal_and_oversized_or_malformed_bodies_are_refused(flask_client, installed):
    assert post(flask_client, "a[b]=1&a=2").status_code == 400
    assert (
        post(flask_client, raw("event_ONCRMLEADADD_app") + "&pad=" + "x" * 70_000).status_code
        == 413
    )
    assert post(flask_client, b"\xff\xfe=\xff").status_code == 400
    with installed.session() as s:
        installations.deactivate(s, MEMBER)
        s.commit()
    form = json.loads((PAYLOADS / "event_ONCRMLEADADD_app.json").read_text())
    form["ts"] = "1742807999"  # not a replay of anything cached
    # the cached installation may answer for a few seconds; the refused token path re-reads
    form["auth"]["application_token"] = "0" * 32
    assert post(flask_client, urlencode(flatten(form))).status_code == 401
    assert queued(installed) == []


def test_a_few_hundred_mutated_payloads_never_get_a_5xx_or_enqueue_a_forgery(
    flask_client, installed
):
    rng = random.Random(11)
    base = raw("event_ONCRMLEADADD_app")
    pieces = base.split("&")
    junk = [
        "",
        "%",
        "%ZZ",
        "[",
        "]]",
        "auth[",
        "=",
        "&&",
        "data[FIELDS][ID][x]=1",
        "\u0416",
        "%00",
        "a" * 300,
    ]
    for _ in range(300):
        parts = list(pieces)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(parts))
            op = rng.random()
            if op < 0.3:
                parts[i] = rng.choice(junk)
            elif op < 0.6:
                parts[i] = parts[i][: rng.randrange(len(parts[i]) + 1)]
            elif op < 0.8:
                parts.insert(i, rng.choice(junk) + "=" + rng.choice(junk))
            else:
                parts[i] = (
                    parts[i].replace(APP_TOKEN, APP_TOKEN[::-1]).replace(MEMBER, MEMBER[::-1])
                )
        resp = post(flask_client, "&".join(parts))
        assert resp.status_code < 500, "&".join(parts)
    for _, args in queued(installed):
        assert args[0] == MEMBER
