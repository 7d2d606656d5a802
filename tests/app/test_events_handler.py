"""POST /events through Flask: real parsing, store lookup, Redis claims and RQ enqueue."""

import json
import random
from urllib.parse import urlencode

import pytest

from app.jobs.events import drain_changes, enqueue_safety_nets
from app.store import inbox, installations
from app.sync import dirty
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


def run_drains(services, *, once=False):
    """Run (and dequeue) the queued drain jobs the way a worker would, in order.

    These tests are about the inbox's bookkeeping (which records the drain takes, once),
    not about reading them: there is no portal here, so the drain's processing step hands
    each taken record to a ``process_change`` job instead — the path the drain itself
    takes for a record that failed in its group. Processing a group against a portal is
    tested in tests/app/test_sync_group.py. A drain that continues in a fresh job is run
    too, unless ``once``."""
    import app.jobs.events as jobs
    from app import services as root

    def hand_on(services, ctx, taken):
        jobs._enqueue_changes(services, MEMBER, taken)
        return []

    previous = root.use(services)
    original, jobs._process_taken = jobs._process_taken, hand_on
    original_ctx, jobs.portal_context = jobs.portal_context, lambda services, member_id: None
    try:
        for _ in range(100):  # a drain that used its rounds continues in a fresh job
            drains = [
                job
                for job in services.queue("events").get_jobs()
                if job.func_name == "app.jobs.events.drain_changes"
            ]
            if not drains:
                break
            for job in drains:
                drain_changes(*job.args)
                job.delete()
            if once:
                break
    finally:
        jobs._process_taken, jobs.portal_context = original, original_ctx
        root.use(previous)


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
    assert queued(installed) == [("app.jobs.events.drain_changes", [MEMBER])]
    run_drains(installed)
    assert queued(installed) == [("app.jobs.events.process_change", [MEMBER, "lead", 1000983])]
    assert not installed.redis.exists(dirty.flag_key(MEMBER), dirty.dirty_key(MEMBER))


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
    run_drains(services)
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
    run_drains(installed)
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
    run_drains(installed)
    for _, args in queued(installed):
        assert args[0] == MEMBER


def lead_event(n, record_id):
    form = json.loads((PAYLOADS / "event_ONCRMLEADADD_app.json").read_text())
    form["data"]["FIELDS"]["ID"] = str(record_id)
    form["event_handler_id"] = str(n)  # a distinct delivery, not a replay
    return urlencode(flatten(form))


def test_the_drain_enqueues_one_job_per_dirty_record_across_batches(
    flask_client, installed, monkeypatch
):
    import app.jobs.events as jobs

    monkeypatch.setattr(jobs, "DRAIN_BATCH", 7)
    for n in range(60):
        assert post(flask_client, lead_event(n, 100 + n % 20)).status_code == 200
    assert len(queued(installed)) == 1  # 60 events, one drain
    run_drains(installed)
    assert sorted(a[2] for _, a in queued(installed)) == list(range(100, 120))
    assert not installed.redis.exists(dirty.flag_key(MEMBER))


def test_a_record_whose_job_is_still_queued_gets_no_second_job(flask_client, installed):
    assert post(flask_client, lead_event(1, 5)).status_code == 200
    run_drains(installed)
    assert post(flask_client, lead_event(2, 5)).status_code == 200  # its job did not start
    run_drains(installed)
    assert queued(installed) == [("app.jobs.events.process_change", [MEMBER, "lead", 5])]
    installed.redis.delete(inbox.pending_key(MEMBER, "change", "lead", 5))  # the job started
    assert post(flask_client, lead_event(3, 5)).status_code == 200
    run_drains(installed)
    assert [a[2] for _, a in queued(installed)] == [5, 5]


def test_a_long_drain_hands_over_to_a_fresh_job_and_keeps_the_flag(
    flask_client, installed, monkeypatch
):
    import app.jobs.events as jobs

    monkeypatch.setattr(jobs, "DRAIN_BATCH", 2)
    monkeypatch.setattr(jobs, "DRAIN_ROUNDS", 1)
    for n in range(5):
        post(flask_client, lead_event(n, 40 + n))
    run_drains(installed, once=True)
    assert [name.rsplit(".", 1)[1] for name, _ in queued(installed)] == [
        "process_change",
        "process_change",
        "drain_changes",
    ]
    assert installed.redis.exists(dirty.flag_key(MEMBER))
    assert installed.redis.zcard(dirty.dirty_key(MEMBER)) == 3


def test_records_left_by_a_dead_drain_are_rescheduled_by_the_safety_net(flask_client, installed):
    assert post(flask_client, lead_event(1, 9)).status_code == 200
    installed.queue("events").empty()  # the drain job was lost ...
    assert ("drain_changes", MEMBER) not in enqueue_safety_nets(installed)  # ... flag still up
    installed.redis.delete(dirty.flag_key(MEMBER))  # ... and its flag expired
    assert ("drain_changes", MEMBER) in enqueue_safety_nets(installed)
    assert ("drain_changes", MEMBER) not in enqueue_safety_nets(installed)  # once
    run_drains(installed)
    assert queued(installed) == [("app.jobs.events.process_change", [MEMBER, "lead", 9])]


def test_a_busy_portal_takes_turns_with_a_quiet_one(flask_client, installed, monkeypatch):
    """Fairness: one drain per portal at a time, and a drain that used its rounds goes
    to the back of the queue, behind the drains other portals scheduled meanwhile."""
    import app.jobs.events as jobs
    from app import services as root

    quiet = "b" * 32
    with installed.session() as s:
        installations.upsert_verified(
            s, quiet, domain="quiet.bitrix24.com", application_token=APP_TOKEN, status="active"
        )
        s.commit()
    monkeypatch.setattr(jobs, "DRAIN_BATCH", 2)
    monkeypatch.setattr(jobs, "DRAIN_ROUNDS", 1)
    seen = []
    monkeypatch.setattr(jobs, "_process_taken", lambda s, ctx, taken: seen.append(taken) or [])
    monkeypatch.setattr(jobs, "portal_context", lambda services, member_id: member_id)
    for n in range(10):  # the busy portal's burst
        post(flask_client, lead_event(n, 500 + n))
    form = json.loads((PAYLOADS / "event_ONCRMLEADADD_app.json").read_text())
    form["auth"].update(member_id=quiet, domain="quiet.bitrix24.com")
    post(flask_client, urlencode(flatten(form)))  # then one lead on the quiet portal
    previous = root.use(installed)
    try:
        order = []
        for _ in range(4):  # a worker taking the events queue in order
            job = installed.queue("events").get_jobs()[0]
            order.append(job.args[0])
            drain_changes(*job.args)
            job.delete()
    finally:
        root.use(previous)
    # one drain each in the queue, never the busy portal's whole burst in front
    assert order == [MEMBER, quiet, MEMBER, MEMBER]
    assert [len(t) for t in seen] == [2, 1, 2, 2]
