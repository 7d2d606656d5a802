"""The booking widget's HTTP API: per-portal credentials, validation, 409 with offers."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.objects.access import issue
from app.playbooks.settings import set_value
from app.store import installations
from tests.app._widgets_world import mirror_lead
from tests.support.bearers import bearer_headers, viewer_headers

M, OTHER = "member-kt-api", "member-kt-other"
TOKEN = "app-token-kt"
MSK = ZoneInfo("Europe/Moscow")


def _slot_day() -> datetime:
    day = datetime.now(MSK).date() + timedelta(days=7)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=MSK)


@pytest.fixture
def api(services, flask_client):
    with services.session() as s:
        for member, token in ((M, TOKEN), (OTHER, "other-token")):
            installations.upsert_verified(
                s,
                member,
                domain=f"{member}.example",
                auth_mode="webhook",
                webhook_url="http://127.0.0.1:1/rest/1/x/",
                status="active",
                playbooks=["kitchens"],
                application_token=token,
            )
            set_value(s, member, "kitchens", "measurer_user_ids", [9])
        s.commit()
    for lead_id in (7, 8):
        mirror_lead(services, M, lead_id)

    def call(method, path, json=None, member=M, headers=None):
        headers = bearer_headers(services, member) if headers is None else headers
        return getattr(flask_client, method)(
            f"/booking/{member}/{path}", json=json, headers=headers
        )

    return call


def test_credentials_are_checked_per_portal(api, services):
    assert api("get", "slots", headers={}).status_code == 401
    bearer = bearer_headers(services, M)
    assert api("get", "slots", headers=bearer).status_code == 200
    assert api("get", "slots", member=OTHER, headers=bearer).status_code == 401  # A's on B


def test_the_application_token_is_no_credential(api):
    """Portals post APPLICATION_TOKEN in every frame form (docs/bitrix24-protocol §3.2):
    whoever opened a tab holds it. Neither the token itself nor a bearer signed with it
    opens the booking API."""
    assert api("get", "slots", headers={"X-Application-Token": TOKEN}).status_code == 401
    forged = {"Authorization": f"Bearer {issue(TOKEN, M)}"}
    assert api("get", "slots", headers=forged).status_code == 401
    body = {"lead_id": 7, "measurer_id": 9, "start": _slot_day().isoformat()}
    assert api("post", "bookings", body, headers=forged).status_code == 401
    assert api("post", "bookings", body, headers={"X-Application-Token": TOKEN}).status_code == 401


def test_book_then_a_clash_gets_409_with_offers_and_other_portals_cannot_see_it(api):
    start = _slot_day()
    body = {"lead_id": 7, "measurer_id": 9, "start": start.isoformat(), "address": "ул. Мира, 1"}
    made = api("post", "bookings", body)
    assert made.status_code == 201
    booking = made.get_json()["booking"]
    assert datetime.fromisoformat(booking["end"]) == start + timedelta(hours=3)
    clash = api("post", "bookings", {**body, "lead_id": 8})
    assert clash.status_code == 409
    offers = clash.get_json()["offers"]
    assert datetime.fromisoformat(offers[0]["start"]) == start + timedelta(hours=3)
    path = f"bookings/{booking['id']}/cancel"
    assert api("post", path, member=OTHER).status_code == 404
    assert api("post", path).get_json()["booking"]["state"] == "cancelled"
    assert api("post", "bookings", {**body, "lead_id": 8}).status_code == 201


def test_bad_bodies_are_400_and_change_nothing(api):
    assert api("post", "bookings", {"lead_id": 7}).status_code == 400
    naive = {"lead_id": 7, "measurer_id": 9, "start": "2030-01-10T09:00:00"}
    assert api("post", "bookings", naive).status_code == 400
    assert api("get", "slots?after=yesterday").status_code == 400
    assert (
        api("post", "bookings/999/reschedule", {"start": _slot_day().isoformat()}).status_code
        == 404
    )


def test_a_lead_the_portal_does_not_have_cannot_be_booked(api, services):
    """Issue #20: bookings for leads that do not exist were created (201)."""
    body = {"lead_id": 4242, "measurer_id": 9, "start": _slot_day().isoformat()}
    resp = api("post", "bookings", body)
    assert resp.status_code == 404 and "lead" in resp.get_json()["error"]
    mirror_lead(services, OTHER, 4243)  # a lead of ANOTHER portal is not this portal's
    assert api("post", "bookings", {**body, "lead_id": 4243}).status_code == 404
    from app.store import bookings

    with services.session() as s:
        assert s.query(bookings.MeasurementBooking).count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"lead_id": 2**63, "measurer_id": 9},
        {"lead_id": "9" * 5000, "measurer_id": 9},
        {"lead_id": 7, "measurer_id": -1},
        {"lead_id": 7, "measurer_id": 9, "start": "9999-12-31T23:00:00+03:00"},
        {"lead_id": 7, "measurer_id": 9, "start": "0001-01-01T00:00:00+00:00"},
        {"lead_id": True, "measurer_id": 9},
    ],
)
def test_out_of_range_numbers_and_dates_are_400_and_change_nothing(api, services, body):
    """Issue #20: oversized integers and year-9999 dates gave 500."""
    full = {"start": _slot_day().isoformat(), **body}
    resp = api("post", "bookings", full)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    from app.store import bookings

    with services.session() as s:
        assert s.query(bookings.MeasurementBooking).count() == 0


@pytest.mark.parametrize(
    "path",
    [
        "slots?after=9999-12-31T00:00:00%2B00:00",
        f"slots?measurer_id={2**70}",
        "slots?n=" + "9" * 400,
    ],
)
def test_out_of_range_query_values_are_400(api, path):
    assert api("get", path).status_code == 400


def test_huge_booking_ids_are_404_not_500(api):
    start = _slot_day().isoformat()
    assert api("post", f"bookings/{2**70}/reschedule", {"start": start}).status_code == 404
    assert api("post", f"bookings/{2**70}/cancel").status_code == 404


def test_a_lead_of_another_playbook_is_refused_readably_and_nothing_is_reserved(
    services, flask_client
):
    """#21: on a portal with metal and kitchens a web-form lead is metal's
    (``app.rules.ownership``): the booking API answers 409 with a readable problem (the
    widget shows ``problems``), nothing is reserved and no job is queued."""
    from app.store import bookings

    member = "member-kt-two"
    with services.session() as s:
        installations.upsert_verified(
            s,
            member,
            domain=f"{member}.example",
            auth_mode="webhook",
            webhook_url="http://127.0.0.1:1/rest/1/x/",
            status="active",
            playbooks=["metal", "kitchens"],
            application_token=TOKEN,
        )
        set_value(s, member, "kitchens", "measurer_user_ids", [9])
        s.commit()
    mirror_lead(services, member, 21, sourceId="WEBFORM")  # metal claims web forms
    mirror_lead(services, member, 22, sourceId="CALL")  # kitchens claims calls
    body = {"measurer_id": 9, "start": _slot_day().isoformat()}
    headers = bearer_headers(services, member)
    url = f"/booking/{member}/bookings"
    queued = services.queue("sync").count

    refused = flask_client.post(url, json={**body, "lead_id": 21}, headers=headers)
    assert refused.status_code == 409
    reply = refused.get_json()
    assert "metal" in reply["error"] and "не к кухням" in reply["problems"][0]
    assert reply["offers"] == []
    day = _slot_day()
    with services.session() as s:
        assert bookings.active_between(s, member, day, day + timedelta(days=1)) == []
    assert services.queue("sync").count == queued

    made = flask_client.post(url, json={**body, "lead_id": 22}, headers=headers)
    assert made.status_code == 201, made.get_json()


def test_wishes_go_to_the_job_and_are_bounded(api, services):
    """#24: the client's wishes come with the booking and are handed to the job that writes
    the lead (``UF_CRM_KT_WISHES``; written on the portal: tests/e2e/test_kitchens_scenario)."""
    start = _slot_day().isoformat()
    long = {"lead_id": 7, "measurer_id": 9, "start": start, "wishes": "x" * 2001}
    assert api("post", "bookings", long).status_code == 400
    made = api("post", "bookings", {**long, "wishes": "  Без ручек, фасады в цвет стен "})
    assert made.status_code == 201
    (job,) = [j for j in services.queue("sync").jobs if j.func_name.endswith("write_booking")]
    assert job.args[4] == "  Без ручек, фасады в цвет стен "
    assert job.args[5] is None  # the tab's anonymous bearer: booked by nobody named


def test_a_booking_is_attributed_to_the_viewer_the_page_bearer_names(api, services):
    """Booked, moved, cancelled: each write job names the user the page bearer names (the
    audit's cause says so: app.booking.jobs); another portal's page bearer is refused."""
    start = _slot_day()
    by7 = viewer_headers(services, M, 7)
    made = api("post", "bookings", {"lead_id": 7, "measurer_id": 9, "start": start.isoformat()},
               headers=by7)  # fmt: skip
    assert made.status_code == 201, made.get_json()
    booking = made.get_json()["booking"]["id"]
    later = (start + timedelta(hours=2)).isoformat()
    moved = api("post", f"bookings/{booking}/reschedule", {"start": later},
                headers=viewer_headers(services, M, 8))  # fmt: skip
    assert moved.status_code == 200, moved.get_json()
    assert api("post", f"bookings/{booking}/cancel", headers=by7).status_code == 200
    jobs = [j for j in services.queue("sync").jobs if j.func_name.endswith("write_booking")]
    assert [(j.args[3], j.args[5]) for j in jobs] == [
        ("active", 7), ("active", 8), ("cancelled", 7)
    ]  # fmt: skip
    # A's page bearer is worth nothing on B
    foreign = api("get", "slots", member=OTHER, headers=by7)
    assert foreign.status_code == 401


def test_a_redis_outage_while_the_page_key_seed_is_needed_is_a_json_503(api, monkeypatch):
    """The bearer's key derives from a seed in Redis when there is no client secret: with
    Redis down the API says "try again" as JSON — not a crash, not a misleading 401."""
    import redis

    forged_or_not = {"Authorization": "Bearer 9999999999.abc"}

    def down(*args, **kwargs):
        raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr(redis.Redis, "get", down)
    resp = api("get", "slots", headers=forged_or_not)
    assert resp.status_code == 503 and resp.is_json and "error" in resp.get_json()


def test_a_widget_bearer_never_passes_for_a_page_bearer(api, services, flask_client):
    """Page bearers (``p1.…``) share the page key but sign another message. A tab's page
    bearer works on the booking API — it proves more (the viewer the portal vouched for:
    app.objects.access.caller) — but the anonymous widget bearer is never taken for a page
    bearer: it names no user, so it opens no page API."""
    from app.widgets._viewer import Viewer, issue_bearer, page_key, verify_bearer
    from tests.support.bearers import widget_bearer

    key = page_key(services, M, TOKEN)
    page = issue_bearer(key, M, Viewer(1, "", True))
    assert api("get", "slots", headers={"Authorization": f"Bearer {page}"}).status_code == 200
    anonymous = widget_bearer(services, M)
    assert verify_bearer(key, M, anonymous) is None
    settings = flask_client.post(
        f"/pages/{M}/settings/kitchens", json={"values": {}},
        headers={"Authorization": f"Bearer {anonymous}"},
    )  # fmt: skip
    assert settings.status_code == 401
