"""Furniture (seed 000: «За лидов, созданных автоматически, отвечает онлайн-консультант»):
leads that arrive by themselves go to the online consultant.

A new lead from the online chat (open lines), a CRM form or the connected mailbox —
``sourceId`` WEBFORM, EMAIL, CALLBACK, or an open-line source (``OPENLINE…``, ``IMOL…``) — is
given to ``online_consultant_id``. Leads typed in by the store staff keep their creator.
With the setting at 0 (a fresh install) nothing is reassigned: the portal's defaults decide,
and the install summary says to fill it.
"""

from __future__ import annotations

from app.rules import actions as A
from app.rules.model import RESPONSIBLE_FIELD, Rule, RuleContext, on_created

AUTOMATIC = frozenset({"WEBFORM", "EMAIL", "CALLBACK"})
CHAT_PREFIXES = ("OPENLINE", "IMOL")


def arrived_by_itself(source: object) -> bool:
    code = str(source or "").strip().upper()
    return code in AUTOMATIC or code.startswith(CHAT_PREFIXES)


def to_consultant(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    consultant = int(ctx.settings.get("online_consultant_id") or 0)
    if consultant <= 0 or not arrived_by_itself(record.get("sourceId")):
        return []
    if int(record.get(RESPONSIBLE_FIELD) or 0) == consultant:
        return []
    rid = ctx.change.record_id
    return [A.UpdateFields("lead", rid, {RESPONSIBLE_FIELD: consultant}, key="consultant")]


RULES = [Rule("online_consultant", "lead", on_created(), to_consultant)]
