"""The inbox's decisions: validation, authentication, replay claims, coalescing."""

import hmac
import json
import random
import time

import pytest

from app.store import inbox
from app.sync.intake import Installation, accept
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


def test_app_event_enqueues_process_change_and_replays_do_not(run):
    form = payload("event_ONCRMLEADADD_app")
    first = run(form)
    assert (first.status, first.enqueued) == (200, True)
    assert run.jobs == [("process_change", MEMBER, "lead", 1000983)]
    for _ in range(3):  # old ts: a replay, claimed already
        again = run(form)
        assert (again.status, again.enqueued) == (200, False)
    assert len(run.jobs) == 1


def test_burst_for_one_record_enqueues_one_job_until_the_job_starts(run, redis_conn):
    base = payload("event_ONCRMDEALUPDATE_no_user")
    now = time.time()
    for n in range(200):
        run({**base, "ts": str(int(now)), "event_handler_id": str(n % 3)}, now=now)
    assert run.jobs == [("process_change", MEMBER, "deal", 7405)]
    inbox.clear_pending(redis_conn, inbox.pending_key(MEMBER, "change", "deal", 7405))  # job began
    run(
        {**base, "ts": str(int(now)), "event_handler_id": "1"}, now=now
    )  # same second: still a change
    assert len(run.jobs) == 2


def test_outgoing_webhook_event_uses_the_webhook_token(run):
    form = payload("event_ONCRMDEALDELETE_outgoing_webhook")
    assert run(form).status == 401  # the app token does not match the webhook's
    verdict = run(form, find=installations(token="jvh9y1ulvt2m6k5or90v9mg8nn32ozas"))
    assert verdict.status == 200 and run.jobs == [("process_change", MEMBER, "deal", 1050732)]


def test_smart_process_and_offline_notifications(run):
    assert run(payload("event_ONCRMDYNAMICITEMADD")).enqueued
    assert run(payload("event_ONOFFLINEEVENT")).enqueued
    assert not run(
        {**payload("event_ONOFFLINEEVENT"), "ts": "1466439715"}
    ).enqueued  # one catch-up pending
    assert run.jobs == [
        ("process_change", MEMBER, "dynamic:1220", 22),
        ("catch_up_offline", MEMBER),
    ]


def test_unknown_event_is_accepted_and_ignored(run):
    verdict = run(payload("event_ONTASKADD"))
    assert (verdict.status, verdict.enqueued) == (200, False) and run.jobs == []


@pytest.mark.parametrize(
    "mutate, status",
    [
        (lambda f: f["auth"].update(application_token="0" * 32), 401),
        (lambda f: f["auth"].update(member_id="b" * 32), 401),
        (lambda f: f["auth"].update(domain="evil.example.com"), 403),
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
        if verdict.enqueued:
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
        ("ONCRMTIMELINECOMMENTADD", {"ID": 999}, None),
        ("ONCRMLEADUSERFIELDADD", {"FIELDS": {"ID": "5"}}, None),
    ],
)
def test_events_map_to_the_record_they_are_about(event, data, target):
    from app.sync.events_map import record_of

    assert record_of(event, data) == target


def test_a_failed_enqueue_releases_the_record_for_its_next_event(redis_conn):
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
    assert not redis_conn.exists(inbox.pending_key(MEMBER, "change", "lead", 1000983))
    jobs = Recorder()
    later = {**form, "ts": str(int(time.time()))}
    verdict = accept(
        later,
        find=installations(),
        tokens_match=hmac.compare_digest,
        redis=redis_conn,
        enqueue=jobs,
    )
    assert verdict.enqueued and jobs.jobs == [("process_change", MEMBER, "lead", 1000983)]
