"""The lead tab's "create Object with a choice" API (metal, spec §1 lead rule 6): what the
employee is shown, every refusal with its reason in the page's language, the page bearer
checked per portal, and a choice queued once with who made it."""

from __future__ import annotations

import re

import pytest

from app.objects import choice
from app.rules import actions as A
from app.store import mirror
from app.widgets._viewer import Viewer, issue_bearer, page_key
from tests.app._widgets_world import APP_TOKEN, MEMBER, install

DIMS = {
    "UF_CRM_MT_WIDTH": 12,
    "UF_CRM_MT_LENGTH": 25,
    "UF_CRM_MT_HEIGHT": 6,
    "UF_CRM_MT_AREA": 300,
    "UF_CRM_MT_SITE": "Казань, ул. Заводская 5",
    "UF_CRM_MT_PURPOSE": "warehouse",
}
OBJECT = {
    "title": "Склад",
    "UF_CRM_OBJ_WIDTH": 12,
    "UF_CRM_OBJ_LENGTH": 25,
    "UF_CRM_OBJ_HEIGHT": 6,
    "UF_CRM_OBJ_AREA": 300.0,
    "UF_CRM_OBJ_SITE": "казань,  ул. заводская 5",  # compared case- and space-insensitively
    "UF_CRM_OBJ_PURPOSE": "warehouse",
}


@pytest.fixture
def api(services, flask_client):
    from app.objects import index

    index.install()
    install(services, playbooks=("metal",))
    install(services, member="other-member", domain="other.bitrix24.ru", app_token="other-app")
    with services.session.begin() as s:
        mirror.put(s, MEMBER, "metal.object", 31, OBJECT)
        mirror.put(s, MEMBER, "metal.object", 32, {**OBJECT, "UF_CRM_OBJ_WIDTH": 14})
        mirror.put(s, MEMBER, "lead", 7, {"title": "Склад", "assignedById": 4, **DIMS})
        no_height = {k: v for k, v in DIMS.items() if k != "UF_CRM_MT_HEIGHT"}
        mirror.put(s, MEMBER, "lead", 8, {"title": "Без высоты", **no_height})
        mirror.put(s, MEMBER, "lead", 9, {"title": "Уже есть", "UF_CRM_MT_OBJECT": 32, **DIMS})
    bearer = issue_bearer(page_key(services, MEMBER, APP_TOKEN), MEMBER, Viewer(2, "", False))

    def call(method, lead, body=None, token=bearer, lang="ru", member=MEMBER):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = f"/objects/{member}/leads/{lead}/choice?lang={lang}"
        return getattr(flask_client, method)(url, json=body, headers=headers)

    return call


def test_the_employee_sees_the_duplicates_of_the_lead(api):
    shown = api("get", 7).get_json()
    assert shown == {"linked": None, "complete": True, "missing": [], "candidates": [31]}
    assert api("get", 8).get_json()["missing"] == ["HEIGHT"]
    assert api("get", 9).get_json()["linked"] == 32
    assert api("get", 404).status_code == 404


def test_refusals_say_why_in_the_page_language(api):
    missing = api("post", 8, {"action": "create"})
    assert missing.status_code == 409 and "Высота" in missing.get_json()["error"]
    assert "Height" in api("post", 8, {"action": "create"}, lang="en").get_json()["error"]
    linked = api("post", 9, {"action": "link", "object_id": 31})
    assert linked.status_code == 409 and "#32" in linked.get_json()["error"]
    assert api("post", 7, {"action": "link", "object_id": 999}).status_code == 404
    assert api("post", 7, {"action": "link"}).status_code == 400
    assert api("post", 7, {"action": "merge"}).status_code == 400
    assert api("post", 12345, {"action": "create"}).status_code == 404


def test_the_page_bearer_is_checked_per_portal(api, services):
    assert api("get", 7, token=None).status_code == 401
    assert api("post", 7, {"action": "create"}, token="p1.1.2.0.abc").status_code == 401
    key = page_key(services, "other-member", "other-app")
    other = issue_bearer(key, "other-member", Viewer(2, "", False))
    assert api("get", 7, token=other).status_code == 401  # another portal's bearer
    assert api("get", 7, token=other, member="other-member").status_code == 404  # its own: no lead


def test_a_choice_is_queued_once_with_who_made_it(api, services):
    queue = services.queue("sync")
    before = queue.count
    for _ in range(2):  # a double click
        assert api("post", 7, {"action": "link", "object_id": 31}).status_code == 202
    assert queue.count == before + 1
    (job,) = [j for j in queue.jobs if j.id == choice.job_id(MEMBER, 7, "link", 31)]
    assert job.args == [MEMBER, 7, "link", 31, 2]


def test_the_writes_of_a_choice():
    record = {"title": "Склад", "assignedById": 4, **DIMS}
    linked = choice.choice_actions(record, 7, choice.LINK, 31, _Naming(), 2)
    assert linked[0] == A.LinkRecords(("metal.object", 31), ("lead", 7), key="parent")
    assert linked[1] == A.UpdateFields("metal.object", 31, {"assignedById": 4}, key="who")
    assert linked[2].via == "UF_CRM_MT_OBJECT" and linked[2].parent == ("metal.object", 31)
    assert "#2" in linked[3].text and "#31" in linked[3].text
    created = choice.choice_actions(record, 7, choice.CREATE, None, _Naming(), 2)
    new = created[0]
    assert isinstance(new, A.CreateRecord) and new.link_from == ("lead", 7)
    assert new.fields["UF_CRM_OBJ_WIDTH"] == 12 and new.fields["assignedById"] == 4
    assert created[1].parent == ("metal.object", A.Ref("obj"))


class _Naming:
    """Stable codes as the portal's names (what copy_fields needs for a list option)."""

    def enum_id(self, code, option, entity=None):
        return option

    def enum_code(self, code, value, entity=None):
        return value

    def __getattr__(self, name):
        raise AttributeError(name)


def test_the_tab_still_shows_the_lead_when_the_viewer_cannot_be_told(api, flask_client):
    """The choice needs to know who is looking (the portal is not reachable here): the tab
    says so instead of failing, and shows no controls."""
    from tests.app._widgets_world import open_widget

    page = open_widget(
        flask_client, "lead_object", placement="CRM_LEAD_DETAIL_TAB", options={"ID": "7"}
    ).get_data(as_text=True)
    assert 'id="no-object"' in page and 'id="choice-unavailable"' in page
    assert 'id="create"' not in page
    # no page bearer was handed out (every page carries B24Page's code, which says "Bearer")
    assert re.search(r"p1\.\d+\.\d+\.[01]\.[0-9a-f]{64}", page) is None
