"""The dry-run preview reports the same counts as actually running the playbook on a copy of
that history (issue #16, "Done when").

One history of what people did — leads arriving from a web form, e-mail, a call and by hand,
two of them then moved by a manager (declined, converted) — is played twice:

* into the emulator portal where metal runs for real (events → worker → rules → portal
  writes, audited in ``audit_log``, messages in the outbox);
* into a separate store's mirror as a portal WITHOUT the playbook would hold it (each
  record as created, then only the manager's stage moves), and previewed with
  ``app.rules.dry_run.preview`` — nothing written anywhere.

Per rule, the times it acted and the actions it took must be the same; so must the client
messages by channel and the records the playbook moved."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e._metal_world import MetalWorld, portal_world

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(tmp_path, redis_url, playbooks=["metal"], world_class=MetalWorld)


@pytest.fixture
def copy_store(tmp_path):
    """An empty store of its own: the mirror of the history's copy."""
    from app.store.db import make_engine, session_factory
    from app.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'history.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


class History:
    """Plays people's actions into the real portal and records them, as a portal without
    the playbook would hold them, in the copy's mirror."""

    def __init__(self, world, copy_session):
        self.w, self.copy_session = world, copy_session
        self.created: dict[int, dict] = {}

    def _put(self, record_id: int, raw: dict) -> None:
        from app.store import mirror

        with self.copy_session() as s:
            mirror.put(s, self.w.member_id, "lead", record_id, raw)
            s.commit()

    def lead(self, source: str, **fields) -> int:
        lead_id = self.w.lead_from(source, **fields)
        raw = self.w.item(1, lead_id)  # as the portal made it, before the app acted
        self.created[lead_id] = raw
        self._put(lead_id, raw)
        self.w.settle()
        return lead_id

    def move(self, lead_id: int, stage_code: str) -> None:
        self.w.move(1, lead_id, stage_code, "lead")
        moved = self.w.item(1, lead_id)
        # without the playbook the record is still as created, in the manager's new stage
        after = {
            **self.created[lead_id],
            "stageId": moved["stageId"],
            "movedTime": moved["movedTime"],
            "updatedTime": moved["updatedTime"],
        }
        self._put(lead_id, after)
        self.w.settle()


def _real_counts(w, leads):
    """What the real run did on the history's records. (Records the app's own writes brought
    in — e.g. the e-mail it sent, which the portal files as a new activity — are not in the
    history a preview replays: they are left out here too.)"""
    from app.store import outbox
    from app.store.audit import AuditEntry

    def ours(row) -> bool:
        return row.entity == "lead" and row.record_id in leads

    times, actions, moved = Counter(), Counter(), set()
    with w.services.session() as s:
        rows = [r for r in s.query(AuditEntry) if r.action_type != "rule" and ours(r)]
        messages = Counter(m.wanted for m in s.query(outbox.OutboxMessage) if ours(m))
    for rule, _key in {(r.rule, (r.entity, r.record_id, r.cause)) for r in rows}:
        times[rule] += 1
    for r in rows:
        actions[r.rule] += 1
        if r.action_type == "MoveStage":
            moved.add((r.action["entity"], str(r.action["record_id"])))
    return times, actions, messages, moved


def test_preview_counts_equal_the_real_run_on_a_copy_of_the_history(world, copy_store):
    from app.playbooks.settings import effective
    from app.rules.dry_run import preview

    w = world
    h = History(w, copy_store)
    h.lead("webform", email="buyer@stroy.ru", phone="+79001112233", title="Склад")
    h.lead("email", email="someone@mail.ru", title="Запрос цены")
    h.lead("call", user_id=3, phone="+79005556677")
    declined = h.lead("manual", title="Ангар", phone="+79007778899")
    converted = h.lead("manual", title="Навес", email="roof@client.ru", phone="+79003334455")
    h.move(declined, "metal.lead.declined")
    h.move(converted, "metal.lead.converted")

    times, actions, messages, moved = _real_counts(w, set(h.created))
    assert times and messages, "the real run acted and messaged (the history means something)"

    with w.services.session() as s:
        settings = {"metal": effective(s, w.member_id, "metal")}
    report = preview(
        copy_store, w.member_id, "metal", 7, naming=w.naming, settings=settings, installed=["metal"]
    )
    assert report.steps == 7  # five creations, two moves
    assert dict(report.errors) == {}
    assert dict(report.rules) == dict(times)
    assert dict(report.actions) == dict(actions)
    assert dict(report.messages) == dict(messages)
    assert report.moved_records == moved
    # and the preview wrote nothing: the copy's store holds only the history
    from app.store.audit import AuditEntry
    from app.store.timers import Timer

    with copy_store() as s:
        assert s.query(AuditEntry).count() == 0 and s.query(Timer).count() == 0
