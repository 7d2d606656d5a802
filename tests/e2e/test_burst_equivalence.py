"""A burst of web-form leads processed together ends in exactly the portal state the same
leads give processed one at a time (app.sync.group via the drain).

Two metal portals (emulator + real installer + our app over HTTP + a real RQ worker):
on the first, each lead is created and settled before the next (every drain round holds
one record); on the second, all leads arrive before the worker runs, so the drain reads
them in shared batches and writes their actions back together. The leads mix complete
dimensions, a building site shared by several leads (the Object duplicate check must see
the Object an earlier lead of the same group created), incomplete data and a returning
e-mail. Then both portals are compared record by record (ids of app-created Objects
replaced by the lead they belong to; timestamps left out).

BURST leads: the issue's 300 (about five minutes, nearly all of it the one-at-a-time run
waiting for each lead to settle; ``BURST_LEADS=40`` for a quick local run). Every page of
the portal's lists is compared (``_metal_world.items``): a first version read only the first
50 leads and Objects, and since Object ids follow creation order, which a burst does not
keep, its first pages now and then held different Objects."""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest

from tests.e2e._metal_world import metal_world

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BURST = int(os.environ.get("BURST_LEADS", "300"))
VOLATILE = {"createdTime", "updatedTime", "movedTime", "lastActivityTime", "lastActivityBy"}
VOLATILE |= {"lastCommunicationTime", "lastCommunicationWebformTime"}
# the claim key a create carries (app.rules.recovery) is made of the portal's member id
VOLATILE |= {"xmlId", "originId", "originatorId"}


def _lead(w, n):
    """The n-th lead of the scenario (the same on both portals)."""
    fields = {}
    if n % 5 != 4:  # every fifth lead comes without dimensions
        site = "Казань, Складская 1" if n % 7 == 0 else f"Казань, участок {n}"
        fields = {
            w.uf("lead", "UF_CRM_MT_WIDTH"): 12 + n % 3,
            w.uf("lead", "UF_CRM_MT_LENGTH"): 30,
            w.uf("lead", "UF_CRM_MT_HEIGHT"): 6,
            w.uf("lead", "UF_CRM_MT_SITE"): site,
            w.uf("lead", "UF_CRM_MT_PURPOSE"): w.purpose("lead", "warehouse"),
        }
    email = "repeat@stroy.ru" if n % 6 == 0 else f"c{n}@mail.ru"
    return w.lead_from("webform", email=email, **fields)


def _state(w):
    """The portal's leads, Objects, comments and notifications, comparable across runs."""
    objects = w.items(w.object_etid)
    owner = {o["id"]: o.get("parentId1") for o in objects}  # Object id → its lead
    link = w.uf("lead", "UF_CRM_MT_OBJECT")

    def plain(record):
        out = {k: v for k, v in record.items() if k not in VOLATILE and k != "id"}
        if out.get(link):
            out[link] = ("object of lead", owner.get(int(str(out[link]).rsplit("_", 1)[-1])))
        return out

    leads = {lead["id"]: plain(lead) for lead in w.items(1)}
    objs = Counter(repr(sorted(plain(o).items())) for o in objects)

    def by_owner(text):
        """The duplicate Objects a comment names («…местом: #5, #9») by the lead each belongs
        to: Object ids follow the order of creation, which a burst does not keep."""
        head, sep, ids = text.rpartition("местом: ")
        if not sep:
            return text
        return (
            head + sep + re.sub(r"#(\d+)", lambda m: f"#of-lead-{owner.get(int(m.group(1)))}", ids)
        )

    comments = {
        lead_id: sorted(by_owner(c) for c in w.comments("lead", lead_id)) for lead_id in leads
    }
    notes = Counter(by_owner(n) for user in (1, 2, 3) for n in w.notifications(user))
    return leads, objs, comments, notes


def _object_diff(got: Counter, want: Counter) -> str:
    """The fields in which the Objects only one side has differ (pytest truncates them)."""
    import ast

    extra = [dict(ast.literal_eval(k)) for k in (got - want)]
    missing = [dict(ast.literal_eval(k)) for k in (want - got)]
    lines = []
    for a in extra:
        b = next((m for m in missing if m.get("title") == a.get("title")), None)
        if b is None:
            lines.append(f"only in the burst: {a}")
            continue
        diff = {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}
        lines.append(f"{a.get('title')}: burst vs one at a time {diff}")
    lines += [f"only one at a time: {m}" for m in missing if m.get("title") not in
              {a.get("title") for a in extra}]  # fmt: skip
    return "\n".join(lines)


def test_a_burst_ends_as_the_same_leads_one_at_a_time(tmp_path, redis_url, monkeypatch):
    import redis

    import app.jobs.events as jobs

    one_by_one = metal_world(tmp_path / "one", redis_url)
    w = next(one_by_one)
    try:
        for n in range(BURST):
            _lead(w, n)
            w.settle(retries=True)
        expected = _state(w)
    finally:
        one_by_one.close()
    redis.Redis.from_url(redis_url).flushdb()

    rounds = []
    process = jobs._process_taken
    monkeypatch.setattr(jobs, "_process_taken", lambda *a: rounds.append(len(a[2])) or process(*a))
    burst = metal_world(tmp_path / "burst", redis_url)
    w = next(burst)
    try:
        w.emu.admin.post("requests/reset", {})
        for n in range(BURST):
            _lead(w, n)
        w.emu.wait_deliveries(30)
        w.settle(rounds=8, retries=True)
        requests = int(w.emu.admin.get("requests", limit=1)["total_http"])  # before reading
        got = _state(w)
    finally:
        burst.close()

    assert max(rounds) > 1  # the leads were really processed in groups
    leads, objects, comments, notes = got
    assert len(leads) == BURST  # every page read, not the first 50
    assert leads == expected[0]
    assert objects == expected[1], _object_diff(objects, expected[1])
    assert comments == expected[2]
    assert notes == expected[3]
    # grouped: reads and writes of many leads share batches (one at a time: 2 per lead)
    assert requests <= BURST / 4
