"""Object duplicates and merges end to end: the index found through the HTTP API, a merge
interrupted by a portal error and resumed from its journal by the CLI, the portal's state
afterwards, and the API's credentials."""

from __future__ import annotations

import time

import pytest

from app.objects import access
from tests.e2e._metal_world import metal_world
from tests.support.bearers import widget_bearer

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(tmp_path, redis_url):
    yield from metal_world(tmp_path, redis_url)


def _object(w, *, height=6, tonnage=None, lead=None):
    uf = lambda c: w.uf("metal.object", c)  # noqa: E731
    fields = {
        "title": "Объект",
        uf("UF_CRM_OBJ_WIDTH"): 12.5,
        uf("UF_CRM_OBJ_LENGTH"): 24,
        uf("UF_CRM_OBJ_HEIGHT"): height,
        uf("UF_CRM_OBJ_AREA"): 300,
        uf("UF_CRM_OBJ_SITE"): "Казань",
        uf("UF_CRM_OBJ_PURPOSE"): w.purpose("metal.object", "warehouse"),
    }
    if tonnage is not None:
        fields[uf("UF_CRM_OBJ_TONNAGE")] = tonnage
    if lead:
        fields["parentId1"] = lead
    return w.add(w.object_etid, fields, user_id=2)


def _api(w, method, path, *, token=None, bearer=None, json=None):
    """Call the window's API as its frame does: with the bearer the app issued
    (``widget_bearer``) unless ``bearer`` says otherwise; ``token`` sends the old
    ``X-Application-Token`` header instead (an attacker's try)."""
    headers = {}
    if token:
        headers["X-Application-Token"] = token
    elif bearer is None:
        bearer = widget_bearer(w.services, w.member_id)
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    client = w.app.test_client()
    return getattr(client, method)(f"/objects/{w.member_id}/{path}", headers=headers, json=json)


def test_duplicates_found_by_the_api_then_merged_resumably(world):
    w = world
    lead = w.lead_from("manual", title="Лид дубля")
    main = _object(w)
    dup = _object(w, tonnage=10.5, lead=lead)
    w.rest(
        "crm.item.update",
        {"entityTypeId": 1, "id": lead, "fields": {w.uf("lead", "UF_CRM_MT_OBJECT"): dup}},
    )
    other = _object(w, height=7)  # differs in height: not a duplicate
    w.settle()

    # the window's API: credentials first
    assert _api(w, "get", f"{main}/candidates", bearer="").status_code == 401
    assert _api(w, "get", f"{main}/candidates", token="wrong").status_code == 401
    # the application token every frame form carries (§3.2) is no credential, nor a key
    assert _api(w, "get", f"{main}/candidates", token=w.app_token).status_code == 401
    forged = access.issue(w.app_token, w.member_id)
    assert _api(w, "get", f"{main}/candidates", bearer=forged).status_code == 401
    key = access.key_of(w.services, w.member_id)
    expired = access.sign(key, w.member_id, int(time.time()) - 5)
    assert _api(w, "get", f"{main}/candidates", bearer=expired).status_code == 401
    good = widget_bearer(w.services, w.member_id)
    reply = _api(w, "get", f"{main}/candidates", bearer=good)
    assert reply.status_code == 200 and reply.get_json()["candidates"] == [dup]
    assert other not in _api(w, "get", f"{main}/candidates").get_json()["candidates"]

    body = {"main_id": main, "duplicate_ids": [dup]}
    plan = _api(w, "post", "merge/preview", json=body).get_json()
    assert plan["updates"] == {"UF_CRM_OBJ_TONNAGE": 10.5} and plan["deletes"] == [dup]
    bad = _api(w, "post", "merge/preview", json={"main_id": main})
    assert bad.status_code == 400

    # the merge: the portal refuses the delete once → journal stops half-way, nothing lost
    from app.objects.merge import MergeRequest, run_merge
    from app.portal.errors import PortalError
    from app.sync.context import portal_context

    w.emu.admin.post(
        "faults", {"fail_next": [{"method": "crm.item.delete", "error": "ACCESS_DENIED"}]}
    )
    ctx = portal_context(w.services, w.member_id)
    request = MergeRequest(w.member_id, main, (dup,))
    with pytest.raises(PortalError):
        run_merge(w.services.session, ctx.client, ctx.naming, request)
    assert w.item(w.object_etid, dup)  # still there
    assert float(w.item(w.object_etid, main)[w.uf("metal.object", "UF_CRM_OBJ_TONNAGE")]) == 10.5

    runner = w.app.test_cli_runner()
    args = [
        "b24",
        "objects",
        "merge",
        "--portal",
        w.member_id,
        "--main",
        str(main),
        "--duplicates",
        str(dup),
    ]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "resumed" in result.output and "state applied" in result.output
    assert [o["id"] for o in w.items(w.object_etid)] == sorted([main, other])
    assert str(w.item(1, lead)[w.uf("lead", "UF_CRM_MT_OBJECT")]).endswith(str(main))
    assert w.item(w.object_etid, main)["parentId1"] == lead

    # again: a finished merge is not repeated (no new portal writes)
    before = w.emu.admin.get("requests")["calls"].get("crm.item.update", 0)
    again = runner.invoke(args=args)
    assert again.exit_code == 0 and "state applied" in again.output
    assert w.emu.admin.get("requests")["calls"].get("crm.item.update", 0) == before
    w.settle()
    reply = _api(w, "get", f"{main}/candidates").get_json()
    assert reply["candidates"] == []


def test_cli_rejects_bad_input_without_touching_the_portal(world):
    runner = world.app.test_cli_runner()
    base = ["b24", "objects", "merge", "--portal", world.member_id, "--main", "1"]
    assert runner.invoke(args=[*base, "--duplicates", "x,y"]).exit_code != 0
    assert runner.invoke(args=[*base, "--duplicates", "2", "--choose", "SITE"]).exit_code != 0
    missing = runner.invoke(args=[*base, "--duplicates", "99"])
    assert missing.exit_code != 0 and "не найдены" in missing.output


def test_merge_requested_over_http_runs_as_a_job_and_reports_its_journal(world):
    from rq import SimpleWorker
    from rq.serializers import JSONSerializer

    w = world
    main, dup = _object(w), _object(w, tonnage=3.5)
    w.settle()
    body = {"main_id": main, "duplicate_ids": [dup], "requested_by": 2}
    assert _api(w, "post", "merge", bearer="", json=body).status_code == 401
    assert _api(w, "post", "merge", json={**body, "duplicate_ids": [main]}).status_code == 422
    accepted = _api(w, "post", "merge", json=body)
    assert accepted.status_code == 202
    key = accepted.get_json()["key"]
    queue = w.services.queue("sync")
    SimpleWorker([queue], connection=w.services.redis, serializer=JSONSerializer).work(burst=True)
    journal = _api(w, "get", f"merge/{key}").get_json()
    assert journal["state"] == "applied"
    assert [s["kind"] for s in journal["steps"]] == ["update_main", "delete"]
    assert [o["id"] for o in w.items(w.object_etid)] == [main]
    assert float(w.item(w.object_etid, main)[w.uf("metal.object", "UF_CRM_OBJ_TONNAGE")]) == 3.5
    assert _api(w, "get", "merge/nope").status_code == 404


def test_a_merge_is_attributed_to_the_viewer_never_to_the_user_a_body_claims(world):
    """The merge window's page bearer names who looks (the portal vouched for them); the
    journal and the audit name that user. A ``requested_by`` in the body is a claim anyone
    could write: with the tab's anonymous bearer the merge is attributed to nobody."""
    from rq import SimpleWorker
    from rq.serializers import JSONSerializer

    from app.store.audit import AuditEntry
    from app.store.objects_index import ObjectMerge
    from app.widgets._viewer import Viewer, issue_bearer, page_key

    w = world
    main, dup, other = _object(w), _object(w, tonnage=3.5), _object(w, tonnage=1.0)
    w.settle()
    with w.services.session() as s:
        from app.store import installations

        key = page_key(w.services, w.member_id, installations.get(s, w.member_id).application_token)
    viewer3 = issue_bearer(key, w.member_id, Viewer(3, "", False))
    claim = {"main_id": main, "duplicate_ids": [dup], "requested_by": 2}
    assert _api(w, "post", "merge", bearer=viewer3, json=claim).status_code == 202
    anonymous = {"main_id": main, "duplicate_ids": [other], "requested_by": 2}
    assert _api(w, "post", "merge", json=anonymous).status_code == 202
    queue = w.services.queue("sync")
    SimpleWorker([queue], connection=w.services.redis, serializer=JSONSerializer).work(burst=True)
    with w.services.session() as s:
        by_dup = {tuple(r.request["duplicates"]): r.request["requested_by"]
                  for r in s.query(ObjectMerge)}  # fmt: skip
        causes = sorted(r.cause for r in s.query(AuditEntry).filter_by(rule="objects.merge"))
    assert by_dup == {(dup,): 3, (other,): None}
    assert [c.endswith(" by user 3") for c in causes].count(True) == 1
    assert not any("by user 2" in c for c in causes)
