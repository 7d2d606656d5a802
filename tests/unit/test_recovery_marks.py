"""What the creates are tagged with and what is sent for a create found again (pure)."""

from app.rules import actions as A
from app.rules import commands as C
from app.rules.naming import PlainNaming
from app.rules.recovery import ORIGINATOR, Found, marks, resolvable

NAMING = PlainNaming(entity_types={"metal.object": 1220}, fields={"lead": {"UF_OBJ": "ufCrm1Obj"}})


def test_each_create_kind_gets_the_field_its_docs_offer():
    deal = A.CreateRecord("deal", {"title": "D"})
    assert marks(deal, "k", NAMING) == {"originatorId": ORIGINATOR, "originId": "k"}
    spa = A.CreateRecord("metal.object", {"title": "O"})
    assert marks(spa, "k", NAMING) == {"xmlId": f"{ORIGINATOR}:k"}
    task = A.CreateTask("Call", 1)
    assert marks(task, "k", NAMING) == {"XML_ID": f"{ORIGINATOR}:k"}
    assert marks(A.TimelineComment("lead", 5, "t"), "k", NAMING) == {}  # matched by text
    assert not resolvable(A.Notify((1,), "x")) and not resolvable(
        A.MessageClient("sms", ("lead", 5), "", "x")
    )
    own = A.CreateRecord("deal", {"originId": "crm-import-7"})  # a rule's own origin wins
    assert not resolvable(own) and marks(own, "k", NAMING) == {}


def test_a_tagged_create_sends_its_mark_with_the_fields():
    cmds = C.build(
        [A.CreateRecord("deal", {"title": "D"})], NAMING, [3], marks={3: {"originId": "k"}}
    )
    assert cmds[0].method == "crm.item.add"
    assert cmds[0].params["fields"] == {"title": "D", "originId": "k"}


def test_a_found_create_sends_only_its_follow_ups_and_refs_point_to_it():
    acts = [
        A.CreateRecord(
            "metal.object", {"title": "O"}, link_from=("lead", 5), link_field="UF_OBJ", ref="o"
        ),
        A.LinkRecords(("metal.object", A.Ref("o")), ("lead", 5)),
        A.CreateTask("Call", 1, checklist=("a", "b", "c"), bind_to=("metal.object", A.Ref("o"))),
    ]
    found = {0: Found(77, {"item": {"id": 77}}), 2: Found(9, {"task": {"id": "9"}}, ("a", "c"))}
    cmds = C.build(acts, NAMING, [0, 1, 2], found=found)
    sent = [(c.method, c.params, c.primary) for c in cmds]
    assert sent == [
        ("crm.item.update", {"entityTypeId": 1, "id": 5, "fields": {"ufCrm1Obj": 77}}, False),
        ("crm.item.update", {"entityTypeId": 1220, "id": 77, "fields": {"parentId1": 5}}, True),
        (
            "task.checklistitem.add",
            {"TASKID": 9, "FIELDS": {"TITLE": "b", "SORT_INDEX": 20}},
            False,
        ),
    ]


def test_a_notification_carries_one_tag_per_user():
    """im-notify-system-add.md: a TAG replaces the app's earlier notifications with it —
    whoever they went to, hence the user in it."""
    note = A.Notify((7, 8), "x")
    cmds = C.build([note], NAMING, [0], marks={0: marks(note, "k", NAMING)})
    assert [c.params["TAG"] for c in cmds] == [f"{ORIGINATOR}:k:7", f"{ORIGINATOR}:k:8"]
