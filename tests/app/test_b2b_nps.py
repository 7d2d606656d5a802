"""b2b survey, pure parts and the page over HTTP: the signed link (valid, reused, expired,
tampered), the form, what an answer changes, the rules that send it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from app.nps import decide, page
from app.nps.link import NPS_LINK
from app.nps.token import TokenError, issue, read
from app.playbooks.b2b import rules_nps
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import STAGE_ENTERED, TIMER_FIRED, Change, RuleContext
from app.store.nps import NpsAnswer
from tests.app.test_b2b_rules import Schema

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SECRET = "app-token-of-the-portal"


def secrets(member_id):
    return SECRET if member_id == "m1" else None


def test_the_token_names_one_deal_expires_and_cannot_be_altered():
    token = issue(SECRET, "m1", 42, 2_000_000_000)
    claim = read(token, secrets, 1_900_000_000)
    assert (claim.member_id, claim.deal_id) == ("m1", 42)
    with pytest.raises(TokenError, match="expired"):
        read(token, secrets, 2_000_000_001)
    payload, mac = token.split(".")
    flipped = mac[:-1] + ("1" if mac[-1] == "0" else "0")
    other = issue("another-secret", "m1", 43, 2_000_000_000).split(".")[0]
    for bad in (f"{other}.{mac}", f"{payload}.{flipped}", payload, "", "x.y",
                issue("guess", "m1", 42, 2_000_000_000)):  # fmt: skip
        with pytest.raises(TokenError, match="tampered"):
            read(bad, secrets, 1_900_000_000)
    with pytest.raises(TokenError, match="tampered"):  # a portal we do not know
        read(issue(SECRET, "m2", 42, 2_000_000_000), secrets, 1_900_000_000)


def test_the_form_wants_three_scores_from_0_to_10():
    got = page.parse({"delivery": "10", "packaging": "0", "shelf": "7", "comment": "  ок "})
    assert (got.delivery, got.packaging, got.shelf, got.comment) == (10, 0, 7, "ок")
    for bad in ({"delivery": "11", "packaging": "1", "shelf": "1"},
                {"delivery": "-1", "packaging": "1", "shelf": "1"},
                {"delivery": "5", "packaging": "1"},
                {"delivery": "5", "packaging": "1", "shelf": "x"},
                {"delivery": "5", "packaging": "1", "shelf": "1", "comment": "я" * 2001}):  # fmt: skip
        with pytest.raises(page.FormInvalid):
            page.parse(bad)


DEPARTMENTS = {
    "1": {"ID": "1", "UF_HEAD": "1"},
    "2": {"ID": "2", "PARENT": "1", "UF_HEAD": "2"},
}
USERS = [{"ID": "4", "UF_DEPARTMENT": [2]}, {"ID": "2", "UF_DEPARTMENT": [2]}]


def test_the_managers_head_is_the_department_head_or_the_one_above_for_a_head():
    assert decide.head_of(4, DEPARTMENTS, USERS) == 2
    assert decide.head_of(2, DEPARTMENTS, USERS) == 1
    assert decide.head_of(9, DEPARTMENTS, USERS) is None


def answer(d, p, s, comment=""):
    return NpsAnswer(member_id="m1", deal_id=7, delivery=d, packaging=p, shelf=s, comment=comment)


def test_answers_go_to_the_deal_and_contact_and_a_low_score_tasks_the_head():
    deal = {"id": 7, "title": "Квартал", "assignedById": 4, "contactId": 31}
    upd_deal, upd_contact, task = decide.actions(answer(9, 3, 8, "мятые коробки"), deal,
                                                 defaults("b2b"), 2, NOW)  # fmt: skip
    assert upd_deal.fields["UF_CRM_B2B_NPS_SCORE"] == 7 and upd_deal.record_id == 7
    assert upd_deal.fields["UF_CRM_B2B_NPS_PACKAGING"] == 3
    assert upd_contact.entity == "contact" and upd_contact.record_id == 31
    assert upd_contact.fields["UF_CRM_B2B_NPS_COMMENT"] == "мятые коробки"
    assert isinstance(task, A.CreateTask) and task.responsible_id == 2 and task.auditors == (4,)
    assert "упаковка 3" in task.description and "мятые коробки" in task.description
    good = decide.actions(answer(9, 8, 10), {**deal, "contactId": 0}, defaults("b2b"), 2, NOW)
    assert [type(a) for a in good] == [A.UpdateFields]  # no contact, no low score


def ctx(record, related=None, kind=STAGE_ENTERED, **change):
    ch = Change("m1", "deal", 7, kind, "c", before={}, after=record, **change)
    return RuleContext(ch, record, related or {}, defaults("b2b"), Schema(), NOW)


def test_the_first_delivery_starts_the_survey_timer_and_the_timer_sends_the_link():
    won = {"id": 7, "stageId": "b2b.sales.won", "title": "Квартал", "companyId": 5,
           "opportunity": 100, "UF_CRM_B2B_PAY_DUE": "2026-12-01"}  # fmt: skip
    company = {"UF_CRM_B2B_AUDIENCE": "a", "UF_CRM_B2B_GEO": "g", "UF_CRM_B2B_VOLUME": 1,
               "UF_CRM_B2B_BUSINESS": 701}  # fmt: skip
    (timer,) = rules_nps.start_survey(
        ctx(won, {"company": company}, stage_from="b2b.sales.shipment", stage_to="b2b.sales.won")
    )
    assert timer.kind == "b2b.nps_survey" and (timer.due_at - NOW).days == 3
    fired = ctx(won, {NPS_LINK: {"url": "https://app/nps/abc.def", "expires": 1}},
                kind=TIMER_FIRED, detail={"name": "b2b.nps_survey"})  # fmt: skip
    (message,) = rules_nps.send_survey(fired)
    assert isinstance(message, A.MessageClient) and message.record == ("deal", 7)
    assert "https://app/nps/abc.def" in message.text and message.channel == "email"
    assert rules_nps.send_survey(ctx(won, {NPS_LINK: None}, kind=TIMER_FIRED)) == []


# -- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture
def portal(services):
    from app.store import installations

    with services.session() as s:
        installations.upsert_verified(s, "m1", domain="p.bitrix24.ru", application_token=SECRET)
        s.commit()
    return services


def test_the_link_over_http_valid_reused_expired_tampered(portal, redis_conn):
    from app.web import create_app

    client = create_app(services=portal).test_client()
    token = issue(SECRET, "m1", 7, int(time.time()) + 3600)
    shown = client.get(f"/nps/{token}")
    assert shown.status_code == 200 and 'name="packaging"' in shown.text
    assert "viewport" in shown.text  # a phone-sized page
    bad = client.post(f"/nps/{token}", data={"delivery": "5", "packaging": "12", "shelf": "1"})
    assert bad.status_code == 400 and "упаковки" in bad.text  # nothing stored yet
    ok = client.post(f"/nps/{token}", data={"delivery": "9", "packaging": "4", "shelf": "8",
                                            "comment": "<b>мятые</b>"})  # fmt: skip
    assert ok.status_code == 200 and "Спасибо" in ok.text
    jobs = portal.queue("sync").jobs
    assert [j.func_name for j in jobs] == ["app.jobs.nps.record_nps"] and jobs[0].args == ["m1", 7]
    # reused: the same link, again
    again = client.post(f"/nps/{token}", data={"delivery": "0", "packaging": "0", "shelf": "0"})
    assert again.status_code == 409 and client.get(f"/nps/{token}").status_code == 409
    with portal.session() as s:
        from app.store import nps

        row = nps.get(s, "m1", 7)
        assert (row.delivery, row.packaging, row.shelf, row.comment) == (9, 4, 8, "<b>мятые</b>")
    # expired and tampered
    old = issue(SECRET, "m1", 8, int(time.time()) - 1)
    assert client.get(f"/nps/{old}").status_code == 410
    assert client.post(f"/nps/{old}", data={"delivery": "1"}).status_code == 410
    genuine = issue(SECRET, "m1", 9, int(time.time()) + 60)
    forged = genuine[:-1] + ("1" if genuine[-1] == "0" else "0")
    assert client.get(f"/nps/{forged}").status_code == 404
    other_deal = (
        issue(SECRET, "m1", 10, int(time.time()) + 60).split(".")[0] + "." + token.split(".")[1]
    )
    assert client.post(f"/nps/{other_deal}", data={"delivery": "1"}).status_code == 404
    with portal.session() as s:
        from app.store import nps

        assert [r.deal_id for r in s.query(nps.NpsAnswer)] == [7]  # nothing else stored


def test_an_answer_kept_while_redis_was_down_is_queued_by_the_clocks_sweep(
    make_services, redis_url
):
    """#17: Redis down at submit — the client is thanked and the answer stored, but no job
    exists. The clock's sweep (``app.nps.requeue``) queues it once it is stale, once per
    gate interval; written answers and uninstalled portals are left alone."""
    from datetime import timedelta

    from app.nps.requeue import GIVE_UP_AFTER, STALE_AFTER, requeue_unwritten, sweep
    from app.store import installations, nps
    from app.store.base import utcnow
    from app.web import create_app
    from b24emu.testing import free_port

    down = make_services(redis_url=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
    with down.session() as s:
        for member in ("m1", "gone"):
            installations.upsert_verified(
                s, member, domain=f"{member}.bitrix24.ru", application_token=SECRET,
                status="active" if member == "m1" else "deleted",
            )  # fmt: skip
        s.commit()
    client = create_app(services=down).test_client()
    token = issue(SECRET, "m1", 7, int(time.time()) + 3600)
    ok = client.post(f"/nps/{token}", data={"delivery": "9", "packaging": "4", "shelf": "8"})
    assert ok.status_code == 200 and "Спасибо" in ok.text
    with down.session() as s:
        row = nps.get(s, "m1", 7)
        assert row.written_at is None
        row.answered_at = utcnow() - STALE_AFTER - timedelta(minutes=5)  # the sweep's due
        for deal, member, written in ((8, "m1", utcnow()), (9, "gone", None)):
            s.add(NpsAnswer(member_id=member, deal_id=deal, delivery=1, packaging=1, shelf=1,
                            answered_at=utcnow(), written_at=written))  # fmt: skip
        s.commit()

    later = utcnow() + STALE_AFTER + timedelta(minutes=1)
    assert sweep(down, force=True) == 0  # due, but Redis still down: no exception, no loss
    up = make_services()  # the same store, Redis back
    assert requeue_unwritten(up, utcnow() - STALE_AFTER) == []  # fresh then: job on its way
    assert requeue_unwritten(up, later) == [("m1", 7)]
    (job,) = up.queue("sync").jobs
    assert job.func_name == "app.jobs.nps.record_nps" and job.args == ["m1", 7]
    assert requeue_unwritten(up, later) == []  # once per gate interval
    assert requeue_unwritten(up, utcnow() + GIVE_UP_AFTER + timedelta(days=1)) == []
