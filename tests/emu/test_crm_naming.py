"""UF name conversion follows the portal's converter, edge cases included (§7.7)."""

from __future__ import annotations

import pytest

from b24emu.crm.naming import camel_to_snake, snake_to_camel, uf_aliases, uf_to_camel
from tests.shared_docs import SHARED_PAYLOADS

EXAMPLES = SHARED_PAYLOADS / "uf_name_conversion_examples.txt"


def _examples():
    pairs = []
    for line in EXAMPLES.read_text(encoding="utf-8").splitlines():
        if "->" in line and not line.startswith("#"):
            upper, camel = line.split("->")
            pairs.append((upper.strip(), camel.split()[0]))
    return pairs


@pytest.mark.skipif(not EXAMPLES.exists(), reason="payload examples not available")
def test_payload_examples():
    pairs = _examples()
    assert len(pairs) >= 10
    for upper, camel in pairs:
        converted = uf_to_camel(upper) if upper.startswith("UF_") else snake_to_camel(upper)
        assert converted == camel, upper


@pytest.mark.parametrize(
    ("upper", "camel"),
    [
        ("UF_CRM_7_NEW_REST_LIST", "ufCrm7NewRestList"),
        ("UF_CRM_7_1739432938", "ufCrm7_1739432938"),
        ("UF_CRM_3_1747309727", "ufCrm3_1747309727"),
        ("UF_CRM_1721244707107", "ufCrm_1721244707107"),
        ("UF_CRM_3_DIGIT10", "ufCrm_3_DIGIT10"),
        ("UF_CRM_SCORE", "ufCrmScore"),
        ("UF_CRMX", "ufCrmx"),  # letters only: the regular rule wins
        ("UF_CRM1X", "ufCrm1X"),  # no underscore after UF_CRM, not regular: prefix swap
        ("UF_OTHER1", "ufOTHER1"),
    ],
)
def test_uf_to_camel(upper, camel):
    assert uf_to_camel(upper) == camel


def test_collision_keeps_upper_name():
    aliases = uf_aliases(["UF_CRM_AB", "UF_CRM_AB_"], {"title"})
    # both would be ufCrmAb: the later one keeps its UPPER name
    assert aliases == {"UF_CRM_AB": "ufCrmAb", "UF_CRM_AB_": "UF_CRM_AB_"}


def test_system_field_names_round_trip():
    assert camel_to_snake("assignedById") == "ASSIGNED_BY_ID"
    assert camel_to_snake("parentId1220") == "PARENT_ID_1220"
    assert snake_to_camel("PARENT_ID_1220") == "parentId1220"
