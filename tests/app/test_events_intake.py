"""The inbox's decisions: validation, authentication, replay claims, coalescing."""

import hmac
import json
import random
import time

import pytest

from app.sync import dirty
from app.sync.intake import _SCHEMA, Installation, accept, validate_event
from tests.app._events_fakes import PAYLOADS

MEMBER = "a223c6b3710f85df22e9377d6c4f7553"
APP_TOKEN = "51856fefc120afa4b628cc82d3935cce"


def payload(name):
    return json.loads((PAYLOADS / f"{name}.json").read_text())


class Recorder:
    def __init__(self):
        self.jobs = []

    def __call__(self, *args):
        self.jobs.append(args)


def marked(redis_conn, member=MEMBER):
    """The portal's dirty records with the sequence number of their latest event."""
    rows = redis_conn.zrange(dirty.dirty_key(member), 0, -1, withscores=True)
    return {k.decode(): int(v) for k, v in rows}


def drained(redis_conn, member=MEMBER):
    """What a drain does to the set: take everything, remove it, drop the flag."""
    dirty.done(redis_conn, member, dirty.take(redis_conn, member, 1000))
    assert dirty.finish(redis_conn, member)


def installations(token=APP_TOKEN, domain="example.bitrix24.com"):
    known = {MEMBER: Installation(MEMBER, token, domain)}
    return known.get


@pytest.fixture
def run(redis_conn):
    rec = Recorder()

    def go(form, find=None, now=None):
        return accept(
            form,
            find=find or installations(),
            tokens_match=hmac.compare_digest,
            redis=redis_conn,
            enqueue=rec,
            now=now,
        )

    go.jobs = rec.jobs
    return go


def test_app_event_marks_its_record_schedules_one_drain_and_replays_do_nothing(run, redis_conn):
    form = payload("event_ONCRMLEADADD_app")
    first = run(form)
    assert (first.status, first.marked, first.enqueued) == (200, True, True)
    assert run.jobs == [("drain_changes", MEMBER)]
    before = marked(redis_conn)
    assert list(before) == ["lead:1000983"]
    for _ in range(3):  # old ts: a replay, claimed already
        again = run(form)
        assert (again.status, again.marked, again.enqueued) == (200, False, False)
    assert len(run.jobs) == 1
    assert marked(redis_conn) == before  # a replay does not even bump the record


def test_events_while_a_drain_is_scheduled_only_mark_their_records(run, redis_conn):
    base = payload("event_ONCRMLEADADD_app")
    now = time.time()
    for n in range(30):
        form = json.loads(json.dumps(base))
        form["data"]["FIELDS"]["ID"] = str(500 + n % 10)
        form["ts"], form["event_handler_id"] = str(int(now)), str(n)
        assert run(form, now=now).marked
    assert run.jobs == [("drain_changes", MEMBER)]
    assert sorted(marked(redis_conn)) == sorted(f"lead:{500 + i}" for i in range(10))


def test_burst_for_one_record_is_one_dirty_entry_and_one_drain_until_it_finishes(run, redis_conn):
    base = payload("event_ONCRMDEALUPDATE_no_user")
    now = time.time()
    for n in range(200):
        run({**base, "ts": str(int(now)), "event_handler_id": str(n % 3)}, now=now)
    assert run.jobs == [("drain_changes", MEMBER)]
    assert list(marked(redis_conn)) == ["deal:7405"]
    drained(redis_conn)
    again = run({**base, "ts": str(int(now)), "event_handler_id": "1"}, now=now)
    assert again.marked  # same second, seen before: may still be a change
    assert run.jobs == [("drain_changes", MEMBER)] * 2
    assert list(marked(redis_conn)) == ["deal:7405"]


def test_an_event_landing_after_the_drain_read_its_record_keeps_it_dirty(run, redis_conn):
    base = payload("event_ONCRMDEALUPDATE_no_user")
    now = time.time()
    run({**base, "ts": str(int(now)), "event_handler_id": "1"}, now=now)
    taken = dirty.take(redis_conn, MEMBER, 10)
    run({**base, "ts": str(int(now)), "event_handler_id": "2"}, now=now)  # after the read
    assert dirty.done(redis_conn, MEMBER, taken) == 0
    assert not dirty.finish(redis_conn, MEMBER)  # the drain must go round again
    assert list(marked(redis_conn)) == ["deal:7405"]
    assert run.jobs == [("drain_changes", MEMBER)]  # the running drain covers it


def test_outgoing_webhook_event_uses_the_webhook_token(run, redis_conn):
    form = payload("event_ONCRMDEALDELETE_outgoing_webhook")
    assert run(form).status == 401  # the app token does not match the webhook's
    verdict = run(form, find=installations(token="jvh9y1ulvt2m6k5or90v9mg8nn32ozas"))
    assert verdict.status == 200 and run.jobs == [("drain_changes", MEMBER)]
    assert list(marked(redis_conn)) == ["deal:1050732"]


def test_smart_process_and_offline_notifications(run, redis_conn):
    assert run(payload("event_ONCRMDYNAMICITEMADD")).enqueued
    # an offline notice enqueues nothing: it announces rows for the clock's next catch-up
    # slot (app.jobs.events.enqueue_safety_nets), not one drain per notice
    assert not run(payload("event_ONOFFLINEEVENT")).enqueued
    assert not run({**payload("event_ONOFFLINEEVENT"), "ts": "1466439715"}).enqueued
    assert redis_conn.exists(dirty.announced_key(MEMBER))
    assert run.jobs == [("drain_changes", MEMBER)]
    assert list(marked(redis_conn)) == ["dynamic:1220:22"]
    assert dirty.take(redis_conn, MEMBER, 10)[0][:2] == ("dynamic:1220", 22)


def test_unknown_event_is_accepted_and_ignored(run):
    form = payload("event_ONTASKADD")
    form.update(event="ONTASKCOMMENTADD", data={"FIELDS_AFTER": {"ID": "7", "TASK_ID": "123"}})
    verdict = run(form)
    assert (verdict.status, verdict.enqueued) == (200, False) and run.jobs == []
    assert not verdict.marked


def test_task_event_marks_the_task_dirty(run, redis_conn):
    verdict = run(payload("event_ONTASKADD"))
    assert verdict.status == 200 and verdict.marked
    assert list(marked(redis_conn)) == ["task:123"]


@pytest.mark.parametrize(
    "mutate, status",
    [
        (lambda f: f["auth"].update(application_token="0" * 32), 401),
        (lambda f: f["auth"].update(member_id="b" * 32), 401),
        (lambda f: f["auth"].pop("application_token"), 400),
        (lambda f: f.pop("auth"), 400),
        (lambda f: f.update(event="ONCRM LEAD<script>"), 400),
        (lambda f: f.update(ts="yesterday"), 400),
        (lambda f: f["auth"].update(member_id="../../etc"), 400),
    ],
)
def test_forged_or_malformed_events_are_refused_with_nothing_enqueued(
    run, redis_conn, mutate, status
):
    form = payload("event_ONCRMLEADADD_app")
    mutate(form)
    assert run(form).status == status
    assert run.jobs == []
    assert not redis_conn.keys("b24:*")


def test_a_proved_event_naming_another_domain_is_accepted_and_the_address_confirmed(
    run, redis_conn
):
    """A renamed portal's events name its new domain: the application token + member_id
    prove the portal, so the event counts (it used to be refused with 403 until the next
    token refresh); the domain from the request is not used — one verified address check
    (an OAuth refresh, app.jobs.events.confirm_portal_address) is scheduled per cooldown."""
    form = payload("event_ONCRMLEADADD_app")
    form["auth"].update(domain="renamed.bitrix24.com")
    verdict = run(form)
    assert verdict.status == 200 and verdict.marked
    assert ("confirm_address", MEMBER) in run.jobs
    again = json.loads(json.dumps(form))
    again["ts"] = str(int(again["ts"]) + 1)
    again["auth"].update(domain="other.bitrix24.com")
    assert run(again).status == 200
    assert [j for j in run.jobs if j[0] == "confirm_address"] == [("confirm_address", MEMBER)]


def test_a_forged_event_naming_another_domain_schedules_nothing(run, redis_conn):
    form = payload("event_ONCRMLEADADD_app")
    form["auth"].update(domain="renamed.bitrix24.com", application_token="0" * 32)
    assert run(form).status == 401
    assert run.jobs == [] and not redis_conn.keys("b24:*")


def test_hundreds_of_random_mutations_never_crash_and_never_enqueue_forgeries(run):
    rng = random.Random(7)
    junk = [
        None,
        "",
        "x" * 5000,
        0,
        -1,
        [],
        {},
        {"ID": "1"},
        ["a"],
        "undefined",
        "\x00",
        "٣",
        10**30,
    ]
    base = payload("event_ONCRMLEADADD_app")
    for _ in range(400):
        form = json.loads(json.dumps(base))
        for _ in range(rng.randint(1, 4)):
            target = (
                form
                if rng.random() < 0.5
                else form["auth"]
                if isinstance(form.get("auth"), dict)
                else form
            )
            key = rng.choice(list(target) + ["extra", "data"])
            target[key] = rng.choice(junk)
        verdict = run(form)
        assert verdict.status in (200, 400, 401, 403)
        if verdict.marked:
            assert (
                form["auth"]["application_token"] == APP_TOKEN
                and form["auth"]["member_id"] == MEMBER
            )


@pytest.mark.parametrize(
    "event, data, target",
    [
        ("ONCRMLEADUPDATE", {"FIELDS": {"ID": "17"}}, ("lead", 17)),
        ("onCrmCompanyDelete", {"FIELDS": {"ID": "3"}}, ("company", 3)),
        ("ONCRMDEALMOVETOCATEGORY", {"FIELDS": {"ID": "6675", "CATEGORY_ID": "1"}}, ("deal", 6675)),
        (
            "ONCRMDYNAMICITEMUPDATE",
            {"FIELDS": {"ID": "22", "ENTITY_TYPE_ID": "1220"}},
            ("dynamic:1220", 22),
        ),
        ("ONCRMACTIVITYADD", {"FIELDS": {"ID": "999"}}, ("activity", 999)),
        ("ONCRMDYNAMICITEMADD", {"FIELDS": {"ID": "22"}}, None),
        ("ONCRMLEADADD", {"FIELDS": {"ID": "0"}}, None),
        ("ONCRMLEADADD", {"FIELDS": {"ID": "x"}}, None),
        # issue #20: an oversized id made the event job fail for good
        ("ONCRMLEADADD", {"FIELDS": {"ID": str(2**63)}}, None),
        ("ONCRMLEADADD", {"FIELDS": {"ID": "9" * 5000}}, None),
        ("ONCRMDYNAMICITEMADD", {"FIELDS": {"ID": "2", "ENTITY_TYPE_ID": str(2**40)}}, None),
        ("ONTASKADD", {"FIELDS_AFTER": {"ID": str(2**40)}}, None),
        ("ONCRMTIMELINECOMMENTADD", {"ID": 999}, None),
        ("ONCRMLEADUSERFIELDADD", {"FIELDS": {"ID": "5"}}, None),
    ],
)
def test_events_map_to_the_record_they_are_about(event, data, target):
    from app.sync.events_map import record_of

    assert record_of(event, data) == target


def test_a_failed_drain_enqueue_keeps_the_record_dirty_and_the_next_event_retries(redis_conn):
    def broken(*args):
        raise ConnectionError("queue down")

    form = payload("event_ONCRMLEADADD_app")
    with pytest.raises(ConnectionError):
        accept(
            form,
            find=installations(),
            tokens_match=hmac.compare_digest,
            redis=redis_conn,
            enqueue=broken,
        )
    assert list(marked(redis_conn)) == ["lead:1000983"]  # nothing lost
    assert not redis_conn.exists(dirty.flag_key(MEMBER))  # nothing blocks the next event
    jobs = Recorder()
    later = {**form, "ts": str(int(time.time()))}
    verdict = accept(
        later,
        find=installations(),
        tokens_match=hmac.compare_digest,
        redis=redis_conn,
        enqueue=jobs,
    )
    assert verdict.enqueued and jobs.jobs == [("drain_changes", MEMBER)]


def test_the_hand_validator_accepts_exactly_what_the_event_schema_accepts():
    from marshmallow import ValidationError

    rng = random.Random(3)
    junk = [None, "", "x" * 300, 0, [], {}, {"ID": "1"}, "12", "a.b", "٣", "\x00", "1" * 21]
    base = payload("event_ONCRMLEADADD_app")
    for _ in range(600):
        form = json.loads(json.dumps(base))
        for _ in range(rng.randint(0, 3)):
            target = (
                form["auth"] if isinstance(form.get("auth"), dict) and rng.random() < 0.5 else form
            )
            key = rng.choice([*target, "event_handler_id", "ts", "domain", "extra"])
            if rng.random() < 0.2:
                target.pop(key, None)
            else:
                target[key] = rng.choice(junk)
        try:
            expected = _SCHEMA.load(form)
        except ValidationError:
            expected = None
        assert validate_event(form)[0] == expected, form


def test_the_add_echo_of_a_record_we_created_is_answered_without_a_read(run, redis_conn):
    # the app created smart-process item 22 (type 1220) and lead 1000983
    dirty.remember_created(redis_conn, MEMBER, [("dynamic:1220", 22), ("lead", 1000983)])
    echo = run(payload("event_ONCRMDYNAMICITEMADD"))
    assert (echo.status, echo.marked, echo.enqueued) == (200, False, False)
    assert marked(redis_conn) == {} and run.jobs == []
    assert not redis_conn.exists(dirty.ours_key(MEMBER, "dynamic:1220", 22))  # used up

    # an UPDATE of a record we created is a person's change: it is marked as usual
    update = payload("event_ONCRMLEADADD_app")
    update["event"] = "ONCRMLEADUPDATE"
    assert run(update).marked
    assert list(marked(redis_conn)) == ["lead:1000983"]


def test_an_add_of_a_record_we_did_not_create_is_marked(run, redis_conn):
    dirty.remember_created(redis_conn, MEMBER, [("dynamic:1220", 23)])  # another item
    assert run(payload("event_ONCRMDYNAMICITEMADD")).marked
    assert list(marked(redis_conn)) == ["dynamic:1220:22"]
