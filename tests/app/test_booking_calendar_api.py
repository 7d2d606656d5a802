"""The measurers' calendar API behind the «Замер» tab: the whole grid of a day or a week,
what is taken (and by this lead), per-portal credentials, parameters refused clearly."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.objects.access import issue
from app.playbooks.settings import set_value
from app.store import installations
from tests.app._widgets_world import mirror_lead
from tests.support.bearers import bearer_headers

M, OTHER = "member-kt-cal", "member-kt-cal-other"
TOKEN = "app-token-kt-cal"
MSK = ZoneInfo("Europe/Moscow")


def _monday() -> date:
    day = datetime.now(MSK).date() + timedelta(days=7)
    return day - timedelta(days=day.isoweekday() - 1)


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
            set_value(s, member, "kitchens", "measurer_user_ids", [9, 11])
        s.commit()
    for lead_id in (7, 8):
        mirror_lead(services, M, lead_id)

    def call(method, path, json=None, member=M, headers=None):
        headers = bearer_headers(services, member) if headers is None else headers
        return getattr(flask_client, method)(
            f"/booking/{member}/{path}", json=json, headers=headers
        )

    return call


def _cells(answer, day):
    (found,) = [d for d in answer["days"] if d["date"] == day.isoformat()]
    return {(c["measurer_id"], c["start"][11:16]): c for c in found["cells"]}


def test_a_week_shows_every_slot_with_what_is_taken_and_by_whom(api):
    monday = _monday()
    start = datetime(monday.year, monday.month, monday.day, 12, 0, tzinfo=MSK)
    made = api("post", "bookings", {"lead_id": 7, "measurer_id": 9, "start": start.isoformat()})
    assert made.status_code == 201
    booking_id = made.get_json()["booking"]["id"]

    week = api("get", f"calendar?from={monday.isoformat()}&days=7&lead_id=7").get_json()
    assert [d["date"] for d in week["days"]] == [
        (monday + timedelta(days=i)).isoformat() for i in range(7)
    ]
    assert [d["working"] for d in week["days"]] == [True] * 5 + [False] * 2
    assert week["days"][5]["cells"] == []  # Saturday: nothing to book
    assert [m["id"] for m in week["measurers"]] == [9, 11]
    cells = _cells(week, monday)
    # 09:00–18:00 in 3-hour slots, for each measurer
    assert sorted(cells) == [(m, h) for m in (9, 11) for h in ("09:00", "12:00", "15:00")]
    assert cells[(9, "12:00")]["state"] == "this_lead"
    assert cells[(9, "12:00")]["booking_id"] == booking_id
    assert cells[(11, "12:00")]["state"] == "free"
    assert cells[(9, "09:00")]["state"] == "free"
    assert cells[(9, "12:00")]["start"] == start.isoformat()

    # another lead's view: the same slot is only "busy", nothing about lead 7
    other = _cells(api("get", f"calendar?from={monday.isoformat()}&lead_id=8").get_json(), monday)
    assert other[(9, "12:00")] == {
        "measurer_id": 9,
        "start": start.isoformat(),
        "end": (start + timedelta(hours=3)).isoformat(),
        "state": "busy",
    }
    # cancelled: free again
    api("post", f"bookings/{booking_id}/cancel")
    again = _cells(api("get", f"calendar?from={monday.isoformat()}").get_json(), monday)
    assert again[(9, "12:00")]["state"] == "free"


def test_past_slots_are_not_offered(api):
    last_week = _monday() - timedelta(days=14)
    answer = api("get", f"calendar?from={last_week.isoformat()}&days=5").get_json()
    states = {c["state"] for d in answer["days"] for c in d["cells"]}
    assert states == {"past"}


def test_credentials_are_checked_per_portal(api, services):
    assert api("get", "calendar", headers={}).status_code == 401
    bearer = bearer_headers(services, M)
    assert api("get", "calendar", headers=bearer).status_code == 200
    assert api("get", "calendar", member=OTHER, headers=bearer).status_code == 401  # A's on B
    # the application token every frame form carries (§3.2) opens nothing, nor signs a bearer
    assert api("get", "calendar", headers={"X-Application-Token": TOKEN}).status_code == 401
    forged = {"Authorization": f"Bearer {issue(TOKEN, M)}"}
    assert api("get", "calendar", headers=forged).status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-13-01",
        "from=yesterday",
        "days=0",
        "days=15",
        "days=x",
        "lead_id=-1",
        "days=\u00b2",  # "²".isdigit() is True, int("²") raises
        "days=" + "9" * 5000,  # int() refuses more than 4300 digits
    ],
)
def test_bad_parameters_are_refused_with_what_is_expected(api, query):
    answer = api("get", f"calendar?{query}")
    assert answer.status_code == 400
    assert "YYYY-MM-DD" in answer.get_json()["error"]
