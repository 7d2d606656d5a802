"""B2B satisfaction survey (seed 003): after the first order the client is asked to rate the
delivery, the packaging and the shelf life (0–10) and may leave a comment.

* A deal entering «Первая поставка» (the first order delivered) starts a timer of
  ``nps_delay_days``;
* when it fires, the client gets a message (``nps_channel``; the client channels send it)
  with a signed, single-use link to the survey page the app serves (``app.nps``), valid
  ``nps_link_days``. The texts are settings with ``{title}`` and ``{url}``.

Answers come back through the page; ``app.jobs.nps.record_nps`` writes them to the deal and
the contact and gives the manager's head a task when a score is low (``nps_low_score``).
A win the stage gate sends back starts nothing.
"""

from __future__ import annotations

from datetime import timedelta

from app.nps.link import NPS_LINK
from app.playbooks.b2b.rules_stage_gate import blocked
from app.rules import actions as A
from app.rules.model import Rule, RuleContext, on_stage_entered, on_timer
from app.timers import handlers

FIRST_DELIVERY = "b2b.sales.won"
TIMER = "b2b.nps_survey"
handlers.register_kind(TIMER)


def start_survey(ctx: RuleContext) -> list[A.Action]:
    if blocked(ctx):
        return []
    days = float(ctx.settings.get("nps_delay_days") or 0)
    due = ctx.now + timedelta(days=days)
    return [A.StartTimer(TIMER, due, ("deal", ctx.change.record_id), key="nps")]


def send_survey(ctx: RuleContext) -> list[A.Action]:
    link = ctx.related.get(NPS_LINK)
    if not link or ctx.record is None:
        return []
    values = {"title": ctx.record.get("title") or "", "url": link["url"]}
    subject = str(ctx.settings.get("nps_subject") or "").format(**values)
    text = str(ctx.settings.get("nps_text") or "{url}").format(**values)
    if link["url"] not in text:
        text = f"{text}\n{link['url']}"  # a text without {url} still carries the link
    channel = str(ctx.settings.get("nps_channel") or "email")
    return [A.MessageClient(channel, ("deal", ctx.change.record_id), subject, text, key="survey")]


RULES = [
    Rule("nps_after_first_order", "deal", on_stage_entered(FIRST_DELIVERY), start_survey,
         needs=("company",)),
    Rule("nps_send_survey", "deal", on_timer(TIMER), send_survey, needs=(NPS_LINK,)),
]  # fmt: skip
