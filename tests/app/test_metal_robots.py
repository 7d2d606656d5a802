"""The metal Object robots: ``find_object_duplicates`` and ``create_object`` (pure run)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.robots import create_object, find_duplicate_objects
from app.robots.contract import RobotInput, RobotInputError
from app.robots.documents import Document
from app.rules import actions as A
from app.rules.naming import PlainNaming

DIMS = {
    "UF_CRM_MT_WIDTH": 12.5,
    "UF_CRM_MT_LENGTH": 24,
    "UF_CRM_MT_HEIGHT": 6,
    "UF_CRM_MT_SITE": "Казань",
    "UF_CRM_MT_PURPOSE": "warehouse",
    "assignedById": 4,
}


def inp(module, record, *, props=None, extra=None, entity="lead"):
    return RobotInput(
        code=module.SPEC.code,
        document=Document(1 if entity == "lead" else 2, 7, "LEAD_7"),
        entity=entity,
        props=props or {},
        record=record,
        related={},
        extra=extra or {},
        settings={},
        playbooks=("metal",),
        naming=PlainNaming(),
        now=datetime(2026, 11, 22, tzinfo=UTC),
    )


def test_find_reports_count_ids_and_comments_them():
    result = find_duplicate_objects.run(
        inp(find_duplicate_objects, DIMS, extra={"complete": True, "candidates": [3, 9]})
    )
    assert result.returns == {"count": 2, "ids": "3,9"}
    comment = result.actions[0]
    assert isinstance(comment, A.TimelineComment) and "#3" in comment.text and "#9" in comment.text


def test_find_refuses_incomplete_keys():
    with pytest.raises(RobotInputError):
        find_duplicate_objects.run(inp(find_duplicate_objects, {}, extra={"complete": False}))


def test_create_auto_with_duplicates_creates_nothing_and_lists_them():
    result = create_object.run(inp(create_object, DIMS, extra={"candidates": [3]}))
    assert result.returns["created"] is False and result.returns["ids"] == "3"
    assert not [a for a in result.actions if isinstance(a, A.CreateRecord)]


def test_create_copies_fields_responsible_and_links_both_ways():
    result = create_object.run(inp(create_object, DIMS, props={"mode": "create"}))
    created, link = result.actions
    assert created.entity == "metal.object" and created.link_from == ("lead", 7)
    assert created.fields["UF_CRM_OBJ_AREA"] == 300.0
    assert created.fields["assignedById"] == 4
    assert link.child == ("lead", 7) and link.parent == ("metal.object", A.Ref("obj"))


def test_link_existing_sets_parent_field_and_responsible():
    result = create_object.run(inp(create_object, DIMS, props={"mode": "link", "object_id": 12}))
    kinds = {(type(a).__name__, getattr(a, "via", None)) for a in result.actions}
    assert kinds == {
        ("LinkRecords", None),
        ("LinkRecords", "UF_CRM_MT_OBJECT"),
        ("UpdateFields", None),
    }
    assert result.returns["object_id"] == 12


def test_link_without_an_id_is_refused():
    with pytest.raises(RobotInputError):
        create_object.run(inp(create_object, DIMS, props={"mode": "link"}))
