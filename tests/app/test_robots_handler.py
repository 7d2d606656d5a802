"""POST /robots/<code>: verification, parsing of the documented shapes, enqueueing, answers."""

import pytest

from app.robots import calc_area, sync_responsible, title_by_template
from tests.app._robots_world import PAYLOADS, build_world, encode


@pytest.fixture
def world(emulator, make_services, redis_url):
    w = build_world(emulator, make_services)
    for spec in (calc_area.SPEC, title_by_template.SPEC, sync_responsible.SPEC):
        w.register(spec)
    return w


def _title_call(world, document, etid, item_id, name="lead", **overrides):
    run = world.mint_call("title_by_template", etid, item_id)
    body = world.body(
        name,
        "title_by_template",
        document=document,
        event_token=run["event_token"],
        properties={"template": "{title} #{id}"},
        **overrides,
    )
    return run, body


def _finished(world, run):
    return next(r for r in world.runs() if r["event_token"] == run["event_token"])


def test_the_raw_documented_body_is_accepted_and_answered(world):
    """The exact form-urlencoded sample, with only this portal's identity substituted."""
    lead_id = world.rest("crm.item.add", {"entityTypeId": 1, "fields": {"title": "Roof"}})["item"][
        "id"
    ]
    run = world.mint_call("calc_area", 1, lead_id, {"length": "1", "width": "1"})
    raw = (PAYLOADS / "robot_handler_post_lead.form-urlencoded.txt").read_text().strip()
    sample = dict(pair.split("=", 1) for pair in raw.split("&"))
    assert sample["code"] == "lead_score_robot"
    body = world.body(
        "lead",
        "calc_area",
        document=["crm", "CCrmDocumentLead", f"LEAD_{lead_id}"],
        event_token=run["event_token"],
        properties={"length": "333", "width": "2", "comment": "default string value"},
    )
    assert world.post("calc_area", body).status_code == 200
    world.work()
    done = _finished(world, run)
    assert (done["status"], done["return_values"]["area"]) == ("completed", 666.0)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"application_token": "forged"}, 401),
        ({"member_id": "someone-else"}, 401),
    ],
)
def test_forged_or_unknown_callers_are_refused_with_nothing_enqueued(world, change, status):
    run, body = _title_call(world, ["crm", "CCrmDocumentLead", "LEAD_1"], 1, 1)
    body["auth"].update(change)
    assert world.post("title_by_template", body).status_code == status
    assert world.queued() == 0
    assert world.emu.admin.get("requests")["calls"].get("bizproc.event.send") is None


def test_a_proved_call_naming_another_domain_is_run_and_only_schedules_an_address_check(world):
    """A renamed portal's robot call names its new domain: the application token proved the
    portal, so the call runs; the domain is confirmed from the OAuth server (as for /events,
    tests/app/test_portal_rename.py), never taken from the call."""
    run, body = _title_call(world, ["crm", "CCrmDocumentLead", "LEAD_1"], 1, 1)
    body["auth"]["domain"] = "renamed.bitrix24.com"
    assert world.post("title_by_template", body).status_code == 200
    assert world.queued() == 1
    jobs = [j.func_name for j in world.services.queue("sync").get_jobs()]
    assert jobs == ["app.jobs.events.confirm_portal_address"]
    with world.services.session() as s:
        from app.store import installations

        assert installations.get(s, world.member_id).domain == world.emu.domain


def test_unknown_robot_is_404_and_malformed_calls_are_400(world):
    run, body = _title_call(world, ["crm", "CCrmDocumentLead", "LEAD_1"], 1, 1)
    assert world.post("no_such_robot", body).status_code == 404
    assert world.post("calc_area", body).status_code == 400  # body names another robot
    for broken in (
        {"event_token": ""},
        {"document_id": ["crm", "LEAD_1"]},
        {"timeout_duration": "soon"},
        {"auth": {"application_token": "x"}},
    ):
        assert world.post("title_by_template", {**body, **broken}).status_code == 400, broken
    assert world.post("title_by_template", None, raw="auth%5B=1&&=").status_code == 400
    assert world.queued() == 0


def test_smart_process_document_is_loaded_and_titled(world):
    etid = world.rest("crm.type.add", {"fields": {"title": "Объект", "entityTypeId": 147}})["type"][
        "entityTypeId"
    ]
    item = world.rest("crm.item.add", {"entityTypeId": etid, "fields": {"title": "Ангар"}})["item"]
    dynamic = "Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic"
    run, body = _title_call(
        world, ["crm", dynamic, f"DYNAMIC_{etid}_{item['id']}"], etid, item["id"], "smart_process"
    )
    assert world.post("title_by_template", body).status_code == 200
    world.work()
    done = _finished(world, run)
    assert done["status"] == "completed"
    assert done["return_values"]["title"] == f"Ангар #{item['id']}"
    assert world.item(etid, item["id"])["title"] == f"Ангар #{item['id']}"


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        (["crm", "CCrmDocumentLead", "LEAD_999999"], "не найдена"),
        (["crm", "CCrmDocumentDeal", "LEAD_5"], "не совпадает"),
        (
            ["tasks", "Bitrix\\Tasks\\Integration\\Bizproc\\Document\\Task", "TASK_5"],
            "только с CRM",
        ),
        (["crm", "CCrmDocumentLead", "LEAD_x"], "неизвестный документ"),
    ],
)
def test_documents_we_cannot_load_are_answered_with_the_reason(world, document, fragment):
    run, body = _title_call(world, document, 1, 1)
    assert world.post("title_by_template", body).status_code == 200
    world.work()
    done = _finished(world, run)
    assert done["status"] == "completed"
    assert fragment in done["return_values"]["error"] and fragment in done["log"][-1]


def test_no_wait_call_does_the_work_once_and_sends_nothing(world):
    deal_id = world.rest("crm.item.add", {"entityTypeId": 2, "fields": {"title": "Deal"}})["item"][
        "id"
    ]
    run, body = _title_call(
        world, ["crm", "CCrmDocumentDeal", f"DEAL_{deal_id}"], 2, deal_id, "deal_no_wait"
    )
    assert (body["use_subscription"], body["timeout_duration"]) == ("N", "0")
    for _ in range(3):
        assert world.post("title_by_template", body).status_code == 200
        world.work()
    assert world.item(2, deal_id)["title"] == f"Deal #{deal_id}"
    calls = world.emu.admin.get("requests")["calls"]
    assert calls.get("bizproc.event.send") is None
    assert calls.get("crm.item.update") == 1


def test_the_queued_job_carries_no_auth_and_rq_logs_no_token(world):
    run, body = _title_call(world, ["crm", "CCrmDocumentLead", "LEAD_1"], 1, 1)
    assert world.post("title_by_template", body).status_code == 200
    job = world.services.queue("robots").jobs[0]
    (call,) = job.args
    assert "auth" not in call and body["auth"]["access_token"] not in str(call)
    assert run["event_token"] not in job.description
    assert job.origin == "robots"


def test_encoding_helper_matches_the_documented_raw_body():
    """Guard for the helper the other tests use: it must produce the portal's exact form."""
    import json

    data = json.loads((PAYLOADS / "robot_handler_post_lead.json").read_text())
    raw = (PAYLOADS / "robot_handler_post_lead.form-urlencoded.txt").read_text().strip()
    assert encode(data) == raw


def test_a_failed_answer_is_retried_by_rq_with_the_same_answer_and_no_new_write(world):
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry
    from rq.serializers import JSONSerializer

    lead_id = world.rest("crm.item.add", {"entityTypeId": 1, "fields": {"title": "Hall"}})["item"][
        "id"
    ]
    run, body = _title_call(world, ["crm", "CCrmDocumentLead", f"LEAD_{lead_id}"], 1, lead_id)
    # a 5xx on a write is not retried inside the gateway: the job fails and RQ schedules a retry
    world.emu.admin.post(
        "faults", {"fail_next": [{"method": "bizproc.event.send", "status": 500, "count": 1}]}
    )
    assert world.post("title_by_template", body).status_code == 200
    world.work()
    assert _finished(world, run)["status"] == "running"
    queue = world.services.queue("robots")
    registry = ScheduledJobRegistry(queue=queue)
    (job_id,) = registry.get_job_ids()
    job = Job.fetch(job_id, connection=world.services.redis, serializer=JSONSerializer)
    assert job.retries_left == 2
    registry.remove(job)  # what RQ's scheduler does when the retry is due
    queue.enqueue_job(job)
    world.work()
    done = _finished(world, run)
    assert done["status"] == "completed" and done["return_values"]["title"] == f"Hall #{lead_id}"
    calls = world.emu.admin.get("requests")["calls"]
    assert calls.get("crm.item.update") == 1


# -- the call's own access token (api-reference/bizproc/bizproc-robot/bizproc-robot-add.md:
# AUTH_USER_ID is "the user whose token will be passed to the application") ---------------


def _app_info_calls(world):
    return world.emu.admin.get("requests")["http"].get("app.info", 0)  # refused ones too


def test_another_apps_token_on_the_same_portal_is_refused(world):
    """An attacker holding the portal's application token (it is in every event and frame
    POST) and a live token of ANOTHER app installed on the portal: nothing is enqueued."""
    other = world.emu.register_app(scopes=["crm", "bizproc"])
    world.emu.admin.post(f"apps/{other['client_id']}/install", {"user_id": 1})
    foreign = world.emu.admin.post(f"apps/{other['client_id']}/tokens", {"user_id": 1})
    run, body = _title_call(world, ["crm", "CCrmDocumentLead", "LEAD_1"], 1, 1)
    body["auth"]["access_token"] = foreign["access_token"]
    assert world.post("title_by_template", body).status_code == 401
    assert world.queued() == 0


def test_a_forged_or_missing_access_token_is_refused_and_the_refusal_cached(world):
    run, body = _title_call(world, ["crm", "CCrmDocumentLead", "LEAD_1"], 1, 1)
    body["auth"]["access_token"] = "forged-token-0123456789"
    before = _app_info_calls(world)
    assert world.post("title_by_template", body).status_code == 401
    assert _app_info_calls(world) == before + 1  # proved on the portal (the stored domain)
    assert world.post("title_by_template", body).status_code == 401
    assert _app_info_calls(world) == before + 1  # a replayed forgery does not ask again
    del body["auth"]["access_token"]
    assert world.post("title_by_template", body).status_code == 401
    assert world.queued() == 0


def test_our_apps_token_is_proved_once_and_then_cached(world):
    before = _app_info_calls(world)
    for item in (1, 2):
        run, body = _title_call(world, ["crm", "CCrmDocumentLead", f"LEAD_{item}"], 1, item)
        assert world.post("title_by_template", body).status_code == 200
    assert world.queued() == 2
    assert _app_info_calls(world) == before + 1
