"""b2b and furniture convert their own leads (seeds 003 «лиды перетекают в сделку», 000
«Заключение договора»): Contact/Company + a deal in the playbook's pipeline, one batch."""

from __future__ import annotations

from datetime import UTC, datetime

from app.playbooks.b2b import rules_conversion as b2b
from app.playbooks.furniture import rules_conversion as furniture
from app.rules import actions as A
from app.rules.model import STAGE_ENTERED, Change, RuleContext

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Schema:
    def category(self, code):
        return {"b2b.sales": 5, "furniture.sales": 8}[code]


def ctx(record, stage_to, schema=None):
    ch = Change("m", "lead", 7, STAGE_ENTERED, "c", stage_to=stage_to, after=record)
    return RuleContext(ch, record, {}, {}, schema or Schema(), NOW)


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


LEAD = {
    "title": "Сеть «Квартал»",
    "name": "Олег",
    "assignedById": 4,
    "companyTitle": "ООО Квартал",
    "fm": [{"typeId": "PHONE", "value": "+79001112233"}],
    "sourceId": "WEBFORM",
}


def test_a_b2b_lead_handed_to_sales_becomes_a_client_and_a_b2b_sales_deal():
    out = b2b.convert(ctx({**LEAD, "stageId": b2b.CONVERTED}, b2b.CONVERTED))
    deal, contact, company = (next(c for c in of(out, A.CreateRecord) if c.entity == e)
                              for e in ("deal", "contact", "company"))  # fmt: skip
    assert deal.fields["categoryId"] == 5 and deal.fields["stageId"] == "b2b.sales.new"
    assert deal.fields["leadId"] == 7 and deal.fields["assignedById"] == 4
    assert contact.fields["name"] == "Олег" and contact.fields["fm"][0]["value"] == "+79001112233"
    assert company.fields["title"] == "ООО Квартал"
    links = {(link.child[0], link.parent[0], link.via) for link in of(out, A.LinkRecords)}
    assert links == {
        ("deal", "contact", "contactId"),
        ("lead", "contact", "contactId"),
        ("deal", "company", "companyId"),
    }


def test_a_furniture_contract_becomes_a_deal_in_furniture_sales_with_the_known_contact():
    record = {**LEAD, "contactId": 31, "companyTitle": "", "stageId": furniture.CONTRACT}
    out = furniture.convert(ctx(record, furniture.CONTRACT))
    (deal,) = of(out, A.CreateRecord)
    assert deal.fields["categoryId"] == 8 and deal.fields["stageId"] == "furniture.deal.new"
    (link,) = of(out, A.LinkRecords)
    assert link.parent == ("contact", 31)


def test_nothing_without_the_pipeline_installed():
    class Bare:
        def category(self, code):
            raise KeyError(code)

    assert b2b.convert(ctx({**LEAD, "stageId": b2b.CONVERTED}, b2b.CONVERTED, Bare())) == []
