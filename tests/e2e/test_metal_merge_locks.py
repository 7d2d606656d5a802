"""Merges that share Objects cannot run together, and one journal is applied by one worker:
against the emulator, through ``run_merge`` as the HTTP job and the CLI use it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.objects.merge import LEASE, MergeBusy, MergeRequest, run_merge
from app.portal.errors import PortalError
from app.store.base import utcnow
from app.store.objects_index import ObjectMerge, ObjectMergeClaim
from app.sync.context import portal_context
from tests.e2e._metal_world import metal_world
from tests.e2e.test_metal_merge import _object

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(tmp_path, redis_url):
    yield from metal_world(tmp_path, redis_url)


def _writes(w) -> int:
    calls = w.emu.admin.get("requests")["calls"]
    return sum(calls.get(m, 0) for m in ("crm.item.update", "crm.item.delete"))


def _fail_next_delete(w) -> None:
    w.emu.admin.post(
        "faults", {"fail_next": [{"method": "crm.item.delete", "error": "ACCESS_DENIED"}]}
    )


def _journal(w, request):
    with w.services.session() as s:
        row = s.query(ObjectMerge).filter_by(key=request.key()).one()
        claims = s.query(ObjectMergeClaim).filter_by(merge_id=row.id).count()
        return row.state, row.error, claims, row.id


def test_a_merge_sharing_an_object_with_an_unfinished_one_is_refused(world):
    w = world
    a, b = _object(w), _object(w, tonnage=10.5)
    w.settle()
    ctx = portal_context(w.services, w.member_id)
    keep_a = MergeRequest(w.member_id, a, (b,))
    keep_b = MergeRequest(w.member_id, b, (a,))

    _fail_next_delete(w)  # the first merge stops half-way and keeps its claims
    with pytest.raises(PortalError):
        run_merge(w.services.session, ctx.client, ctx.naming, keep_a)
    state, _error, claims, first_id = _journal(w, keep_a)
    assert (state, claims) == ("failed", 2)

    # the opposite merge would delete A, which the first one keeps: refused, nothing sent
    before = _writes(w)
    with pytest.raises(MergeBusy) as refused:
        run_merge(w.services.session, ctx.client, ctx.naming, keep_b)
    assert f"№{first_id}" in str(refused.value) and "запустите его снова" in str(refused.value)
    assert _writes(w) == before
    assert {o["id"] for o in w.items(w.object_etid)} == {a, b}
    state, error, claims, _ = _journal(w, keep_b)  # whoever polls the journal sees why
    assert state == "refused" and f"№{first_id}" in error and claims == 0

    # the first one resumes, finishes and lets its Objects go
    outcome = run_merge(w.services.session, ctx.client, ctx.naming, keep_a)
    assert outcome.state == "applied" and outcome.resumed
    assert _journal(w, keep_a)[:3] == ("applied", None, 0)
    assert [o["id"] for o in w.items(w.object_etid)] == [a]

    # asked again, the refused request is planned anew: B is gone now, a clear error
    with pytest.raises(Exception, match="не найден") as gone:
        run_merge(w.services.session, ctx.client, ctx.naming, keep_b)
    assert not isinstance(gone.value, MergeBusy)


def test_a_journal_being_applied_elsewhere_is_left_alone_until_its_lease_expires(world):
    w = world
    a, b = _object(w), _object(w, tonnage=10.5)
    w.settle()
    ctx = portal_context(w.services, w.member_id)
    request = MergeRequest(w.member_id, a, (b,))
    _fail_next_delete(w)
    with pytest.raises(PortalError):
        run_merge(w.services.session, ctx.client, ctx.naming, request)

    # another worker picked it up a moment ago (double click, retried job)
    with w.services.session() as s:
        row = s.query(ObjectMerge).filter_by(key=request.key()).one()
        row.state, row.updated_at = "running", utcnow()
        s.commit()
    before = _writes(w)
    outcome = run_merge(w.services.session, ctx.client, ctx.naming, request)
    assert outcome.state == "running" and outcome.resumed
    assert _writes(w) == before
    assert w.item(w.object_etid, b)  # not deleted by us

    # that worker died: after the lease the journal is taken over and finished
    later = utcnow() + LEASE + timedelta(seconds=1)
    outcome = run_merge(w.services.session, ctx.client, ctx.naming, request, now=lambda: later)
    assert outcome.state == "applied"
    assert [o["id"] for o in w.items(w.object_etid)] == [a]
