"""B2B (spec §4 rule 6): an existing client who fills a web form is flagged to their manager.

A client who already buys should reorder through their manager; a web form from them is a
sign that repeat sales broke down. A new web-form lead (``sourceId`` WEBFORM) whose phone,
e-mail or company name matches a known contact or company (the client index, need
``metal.client`` — indexed lookups, no scan) is flagged: the client's responsible is
notified and the lead's timeline says whose client it is. The lead itself is not moved or
reassigned: the manager decides.
"""

from __future__ import annotations

from app.objects import comms
from app.objects.providers import CLIENT
from app.rules import actions as A
from app.rules.model import Rule, RuleContext, on_created

comms.install()  # the client index follows the mirror wherever the b2b rules run too

KIND = {"contact": "контакт", "company": "компания"}


def known_client_form(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    if str(record.get("sourceId") or "").upper() != "WEBFORM":
        return []
    client = ctx.related.get(CLIENT)
    if not client or not client.get("responsible"):
        return []
    rid = ctx.change.record_id
    who = int(client["responsible"])
    kind = KIND.get(str(client.get("kind")), str(client.get("kind")))
    text = (
        f"Ваш клиент ({kind} #{client['id']}) оставил заявку с сайта: лид «{record.get('title') or rid}». "
        "Похоже, повторные продажи дали сбой — свяжитесь с клиентом."
    )
    return [
        A.Notify((who,), text, key="told"),
        A.TimelineComment(
            "lead",
            rid,
            f"Заявка от существующего клиента ({kind} #{client['id']}), "
            f"ответственный менеджер user_{who} уведомлён.",
            key="note",
        ),
    ]


RULES = [Rule("known_client_form", "lead", on_created(), known_client_form, needs=(CLIENT,))]
