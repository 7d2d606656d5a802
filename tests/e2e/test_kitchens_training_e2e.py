"""E2E kitchens training mode (seed 002 «режим обучения»): the lead's tab «Что сделать
сейчас» shows the current stage's hint and follows the stage — also when the app itself
moved it — opened the way the portal opens a placement, against the emulator with the real
installer (which binds the placement), our app over HTTP and a real worker.

Docs: api-reference/widgets/crm/detail-tab.md (CRM_LEAD_DETAIL_TAB),
api-reference/widgets/placement-bind.md.
"""

from __future__ import annotations

import html

import pytest

from app.playbooks.kitchens.training import HINTS
from tests.e2e._metal_world import MetalWorld, portal_world
from tests.e2e.test_widgets_e2e import _handler, _open

LEAD, MANAGER = 1, 3
LINK = "https://wiki.example.ru/kitchens/assigned"


@pytest.fixture
def world(tmp_path, redis_url):
    settings = {"kitchens": {"training_mode": True,
                             "training_links": {"kitchens.lead.assigned": LINK,
                                                "kitchens.lead.unprocessed": "javascript:alert(1)"}}}  # fmt: skip
    yield from portal_world(tmp_path, redis_url, playbooks=["kitchens"], world_class=MetalWorld,
                            settings=settings)  # fmt: skip


def tab(w, lid):
    return html.unescape(_open(w, "CRM_LEAD_DETAIL_TAB", lid, url=_handler(w, "training")))


def test_the_tab_says_what_to_do_now_and_follows_the_stage(world):
    w = world
    lid = w.lead_from("call", title="Звонок", name="Анна", phone="+79123456789")
    w.settle()
    page = tab(w, lid)
    assert HINTS["kitchens.lead.unprocessed"] in page, page[page.find("<body") :][:1500]
    assert "Unprocessed" in page  # the stage, in the viewer's language (the portal's LANG)
    assert "javascript:" not in page  # only http(s) links are shown
    # the manager takes it; the app moves it to «Менеджер назначен» itself
    w.emu.admin.post("crm/responsible", {"entity_type_id": LEAD, "id": lid,
                                         "assigned_by_id": MANAGER, "user_id": MANAGER})  # fmt: skip
    w.settle()
    assert w.item(LEAD, lid)["stageId"] == w.stage("lead", "kitchens.lead.assigned")
    page = tab(w, lid)
    assert HINTS["kitchens.lead.assigned"] in page and f'href="{LINK}"' in page
