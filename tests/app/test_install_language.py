"""Installed names follow the portal's language at install time (issue #16): the install
stores it from app.info's LANGUAGE_ID (else the form's LANG), and the installer names
stages, pipelines, the smart process, list values and placements in it — read back from the
emulator. Field labels carry both languages whatever the portal's (lang maps, per
api-reference/crm/universal/userfieldconfig/userfieldconfig-add.md, ``editFormLabel``)."""

from __future__ import annotations

import pytest

from app.installers.language import portal_language
from app.store import installations
from tests.app import test_install_flow as flow
from tests.app._robots_world import build_world, install

# the install flow's fixtures: the emulator, our app on it, a client of our web app
emu, svc, client, portal_app = flow.emu, flow.svc, flow.client, flow.portal_app
install_post, row = flow.install_post, flow.row


@pytest.mark.parametrize(
    ("answers", "lang"),
    [
        (("en",), "en"),
        (("ru",), "ru"),
        (("ua",), "ru"),
        (("kz", "en"), "ru"),
        (("de",), "en"),
        (("", "en"), "en"),  # no LANGUAGE_ID: the install form's LANG
        ((None, ""), "ru"),  # nothing said: Russian
        ((" EN ",), "en"),
    ],
)
def test_the_portal_language_is_russian_or_english(answers, lang):
    assert portal_language(*answers) == lang


@pytest.mark.parametrize("portal", ["en", "ru", "de"])
def test_the_install_stores_the_language_app_info_names(svc, client, emu, portal_app, portal):
    _, app_token, tokens = portal_app
    emu.portal.core.config.language = portal  # what app.info answers as LANGUAGE_ID
    # the form's LANG is the admin's UI language ("en" here): app.info's answer wins
    assert install_post(client, emu.domain, tokens, app_token).status_code == 200
    assert row(svc, tokens["member_id"]).lang == {"en": "en", "ru": "ru", "de": "en"}[portal]


def _names(world):
    stages = world.rest("crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}})
    pipelines = world.rest("crm.category.list", {"entityTypeId": 2})["categories"]
    types = world.rest("crm.type.list", {})["types"]
    purpose = [
        f
        for f in world.rest("crm.lead.userfield.list", {"filter": {"XML_ID": "UF_CRM_MT_PURPOSE"}})
    ]
    placements = world.rest("placement.get", {})
    return {
        "stages": {s["NAME"] for s in stages},
        "pipelines": {p["name"] for p in pipelines},
        "types": {t["title"] for t in types},
        "purpose": {o["VALUE"] for f in purpose for o in f.get("LIST") or []},
        "placements": {p["title"] for p in placements},
    }


@pytest.mark.parametrize(
    ("lang", "expected", "absent"),
    [
        (
            "en",
            {
                "stages": "Measurement booked",
                "pipelines": "Metal structures",
                "types": "Object",
                "purpose": "Warehouse",
                "placements": "Measurement",
            },
            ("Замер назначен", "Металлоконструкции", "Объект", "Склад", "Замер"),
        ),
        (
            None,  # an installation made before the language was stored: Russian
            {
                "stages": "Замер назначен",
                "pipelines": "Металлоконструкции",
                "types": "Объект",
                "purpose": "Склад",
                "placements": "Замер",
            },
            ("Measurement booked", "Metal structures", "Object", "Warehouse", "Measurement"),
        ),
    ],
)
def test_the_installer_names_things_in_the_stored_language(
    emulator, make_services, lang, expected, absent
):
    world = build_world(emulator, make_services, playbooks=("metal", "kitchens"))
    if lang:
        with world.services.session() as s:
            installations.upsert_verified(s, world.member_id, lang=lang)
            s.commit()
    install(world, ("metal", "kitchens"))
    names = _names(world)
    for kind, name in expected.items():
        assert name in names[kind], (kind, names[kind])
    everything = set().union(*names.values())
    assert not everything & set(absent)
    # field labels carry both languages on a smart process's field whatever the portal's
    fields = world.rest(
        "userfieldconfig.list", {"moduleId": "crm", "filter": {"xmlId": "UF_CRM_OBJ_PURPOSE"}}
    )["fields"]
    (label,) = {f["editFormLabel"].get("ru") for f in fields}
    (label_en,) = {f["editFormLabel"].get("en") for f in fields}
    assert label and label_en and label != label_en
