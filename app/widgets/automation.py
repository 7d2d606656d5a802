"""The record's «Автоматизация / Automation» tab: what the app did to this record and why.

Shown on leads, deals, contacts, companies and metal's «Объект» items (one widget code per
placement, ``app.playbooks.app_widgets``). From the store only:

* the audit (``app.store.audit``): each action — which rule, the change that caused it,
  what it wrote, and how it ended;
* the messages to the client about the record (``app.store.outbox``): channel and state;
* the record's open timers (``app.store.timers``) with their due time in the portal's time
  zone, and for a portal admin a «cancel» button calling
  ``POST /pages/<member_id>/timers/<id>/cancel`` (``app.handlers.automation``).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from app.store import audit, mirror, outbox
from app.store.timers import OPEN_STATES
from app.timers import service as timers
from app.widgets import WidgetContext, WidgetError, page, register, render, t
from app.widgets._store import naming, people
from app.widgets._viewer import bearer_for

log = logging.getLogger(__name__)
MAX_ROWS = 200

# widget code → the record's entity (the smart process's comes from the placement)
ENTITIES = {
    "automation_lead": "lead",
    "automation_deal": "deal",
    "automation_contact": "contact",
    "automation_company": "company",
}
_DYNAMIC = re.compile(r"^CRM_DYNAMIC_(\d+)_DETAIL_TAB$")
# action values that only repeat the record or the bookkeeping: not "what it wrote"
# (a timer's payload is the app's own bookkeeping too: its due time and kind say it all)
_NOT_WRITTEN = frozenset({"entity", "record_id", "key", "action_type", "payload"})
# how an action (app.rules.outcomes) or a message (app.store.outbox) ended, in both languages
_STATES = {
    "done": ("выполнено", "done"),
    "skipped": ("пропущено", "skipped"),
    "failed": ("ошибка", "failed"),
    "duplicate": ("уже было", "already done"),
    "uncertain": ("неизвестно", "uncertain"),
    "error": ("ошибка правила", "rule error"),
    "queued": ("в очереди", "queued"),
    "sending": ("отправляется", "sending"),
    "sent": ("отправлено", "sent"),
    "refused": ("не отправлено", "not sent"),
}

BODY = """
<style>
.auto-table td,.auto-table th{width:auto}.auto-table th{white-space:nowrap}
.auto-table code{font-size:12px;background:#f5f7f8;padding:1px 3px;border-radius:2px}
.st-done,.st-sent{color:#2e7d32}.st-failed,.st-error,.st-refused{color:#c0392b}
</style>
<p id="record" class="muted">{{ record_label }}</p>
<h2>{{ L.actions }}</h2>
{% if actions %}
<table class="auto-table" id="audit">
<tr><th>{{ L.when }}</th><th>{{ L.rule }}</th><th>{{ L.cause }}</th><th>{{ L.wrote }}</th>
<th>{{ L.result }}</th></tr>
{% for a in actions %}<tr class="audit-row">
<td>{{ a.at }}</td><td class="rule">{{ a.rule }}</td><td class="cause">{{ a.cause }}</td>
<td class="wrote"><b>{{ a.type }}</b>{% for k, v in a.wrote %}<br><code>{{ k }}</code> = {{ v }}
{% endfor %}</td>
<td class="st-{{ a.status }}">{{ state(a.status) }}{% if a.error %}<br>{{ a.error }}{% endif %}</td>
</tr>{% endfor %}
</table>
{% else %}<div class="empty" id="no-audit">{{ L.no_actions }}</div>{% endif %}
<h2>{{ L.messages }}</h2>
{% if messages %}
<table class="auto-table" id="messages">
<tr><th>{{ L.when }}</th><th>{{ L.rule }}</th><th>{{ L.channel }}</th><th>{{ L.to }}</th>
<th>{{ L.state }}</th></tr>
{% for m in messages %}<tr class="message-row">
<td>{{ m.at }}</td><td>{{ m.rule }}</td><td class="channel">{{ m.channel }}</td>
<td>{{ m.recipient }}</td>
<td class="st-{{ m.state }}">{{ state(m.state) }}{% if m.error %}<br>{{ m.error }}{% endif %}</td>
</tr>{% endfor %}
</table>
{% else %}<div class="empty" id="no-messages">{{ L.no_messages }}</div>{% endif %}
<h2>{{ L.timers }}</h2>
{% if timers %}
<table class="auto-table" id="timers">
<tr><th>{{ L.kind }}</th><th>{{ L.due }} ({{ tz }})</th><th>{{ L.started_by }}</th>
{% if admin %}<th></th>{% endif %}</tr>
{% for tm in timers %}<tr class="timer-row" data-timer="{{ tm.id }}">
<td class="kind">{{ tm.kind }}</td><td class="due">{{ tm.due }}</td><td>{{ tm.by }}</td>
{% if admin %}<td><button type="button" class="secondary cancel-timer"
 data-timer="{{ tm.id }}">{{ L.cancel }}</button></td>{% endif %}
</tr>{% endfor %}
</table>
{% else %}<div class="empty" id="no-timers">{{ L.no_timers }}</div>{% endif %}
{% if anonymous and timers %}<p class="muted" id="no-viewer">{{ L.no_viewer }}</p>{% endif %}
<div class="msg" id="msg" role="status"></div>
<script type="application/json" id="cfg">{{ cfg|tojson }}</script>
<script>
(function(){
var cfg=JSON.parse(document.getElementById("cfg").textContent),L=cfg.labels;
function say(text,cls){var m=document.getElementById("msg");m.textContent=text||"";
 m.className="msg "+(cls||"");}
document.querySelectorAll(".cancel-timer").forEach(function(b){b.onclick=function(){
 if(!confirm(L.sure))return;var id=b.getAttribute("data-timer");b.disabled=true;
 B24Page.fetch(cfg,"/pages/"+encodeURIComponent(cfg.member)+"/timers/"+id+"/cancel?lang="+
  cfg.lang,{method:"POST"})
 .then(function(r){return r.json().catch(function(){return {};}).then(function(d){
  if(!r.ok)throw new Error(d.error||String(r.status));
  var row=document.querySelector('tr.timer-row[data-timer="'+id+'"]');
  if(row)row.parentNode.removeChild(row);say(L.cancelled,"ok");});})
 .catch(function(e){b.disabled=false;say(e.message,"error");});};});
})();
</script>
"""


def _labels(ctx: WidgetContext) -> dict[str, str]:
    return {
        "actions": t(ctx, "Что сделало приложение", "What the app did"),
        "when": t(ctx, "Когда", "When"),
        "rule": t(ctx, "Правило", "Rule"),
        "cause": t(ctx, "Почему", "Why"),
        "wrote": t(ctx, "Что записано", "What it wrote"),
        "result": t(ctx, "Итог", "Result"),
        "no_actions": t(
            ctx, "Приложение ещё ничего не делало с этой записью.", "The app has not acted here."
        ),
        "messages": t(ctx, "Сообщения клиенту", "Messages to the client"),
        "channel": t(ctx, "Канал", "Channel"),
        "to": t(ctx, "Кому", "To"),
        "state": t(ctx, "Состояние", "State"),
        "no_messages": t(ctx, "Сообщений не было.", "No messages."),
        "timers": t(ctx, "Запланировано", "Pending timers"),
        "kind": t(ctx, "Таймер", "Timer"),
        "due": t(ctx, "Сработает", "Due"),
        "started_by": t(ctx, "Кем поставлен", "Started by"),
        "cancel": t(ctx, "Отменить", "Cancel"),
        "no_timers": t(ctx, "Запланированных действий нет.", "Nothing is scheduled."),
        "no_viewer": t(
            ctx,
            "Портал не ответил, кто вы: отмена таймеров недоступна, откройте вкладку позже.",
            "The portal did not say who you are: cancelling is unavailable, reopen the tab later.",
        ),
    }


def _script_labels(ctx: WidgetContext) -> dict[str, str]:
    return {
        "sure": t(ctx, "Отменить этот таймер?", "Cancel this timer?"),
        "cancelled": t(ctx, "Таймер отменён.", "Timer cancelled."),
    }


def record_entity(ctx: WidgetContext, session) -> str:
    """The stable entity name of the tab's record (``metal.object`` for its smart process)."""
    if ctx.code in ENTITIES:
        return ENTITIES[ctx.code]
    found = _DYNAMIC.match(ctx.placement)
    if found:
        entity = naming(session, ctx.member_id).entity_for_type_id(int(found.group(1)))
        if entity:
            return entity
    raise WidgetError(t(ctx, "Виджет не найден", "Widget not found"), 404)


def portal_people(session, member_id: str):
    """The portal's people and clock (``app.people``): names, and times in the portal's
    offset (``server.time``), else its first playbook's ``time_zone`` setting, else UTC."""
    from app.playbooks import NAMES
    from app.playbooks.settings import effective
    from app.store import installations

    row = installations.get(session, member_id)
    fallback = None
    for name in (row.playbooks or ()) if row is not None else ():
        if name in NAMES:
            fallback = effective(session, member_id, name).get("time_zone") or fallback
            if fallback:
                break
    return people(session, member_id, fallback)


def stage_titles(lang: str) -> dict[str, str]:
    """Every playbook stage's title in ``lang``, by stable code (``metal.lead.declined``)."""
    from app.playbooks import NAMES, load

    return {
        s.code: getattr(s.name, lang, s.name.ru) for name in NAMES for s in load(name).all_stages()
    }


def describe_cause(ctx: WidgetContext, cause: str, people, stage=None) -> str:
    """The change that triggered a rule, readable (the raw cause when not recognised);
    ``stage(code)`` names a stage (default: the code itself)."""
    stage = stage or (lambda code: code)
    head, _, _ = cause.partition("@")
    if cause == "created":
        return t(ctx, "Запись создана", "The record was created")
    if head.startswith("stage:"):
        old, _, new = head[len("stage:") :].partition(">")
        old, new = (stage(old) if old else ""), stage(new)
        if not old:
            return t(ctx, f"Создана на стадии {new}", f"Created in stage {new}")
        return t(ctx, f"Стадия: {old} → {new}", f"Stage: {old} → {new}")
    if head.startswith("fields:"):
        names = head[len("fields:") :].replace(",", ", ")
        return t(ctx, f"Изменены поля: {names}", f"Fields changed: {names}")
    if head.startswith("responsible:"):
        who = people(head[len("responsible:") :])
        return t(ctx, f"Новый ответственный: {who}", f"New responsible: {who}")
    if head.startswith("user:"):
        who = people(head[len("user:") :])
        return t(ctx, f"Действие пользователя {who}", f"Done by {who}")
    if cause == "deleted":
        return t(ctx, "Запись удалена", "The record was deleted")
    if head.startswith("timer:"):
        number = head[len("timer:") :]
        return t(ctx, f"Сработал таймер №{number}", f"Timer #{number} fired")
    if head.startswith("robot:"):
        return t(ctx, "Вызван робот приложения", "The app's robot was called")
    if head == "task:completed":
        return t(ctx, "Задача выполнена", "A task was completed")
    return cause


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def written(action: dict[str, Any] | None, stage=None) -> list[tuple[str, str]]:
    """(name, value) pairs of what an action wrote, flattening its ``fields``; a stage move's
    target named by ``stage(code)`` when given."""
    out: list[tuple[str, str]] = []
    for key, value in (action or {}).items():
        if key in _NOT_WRITTEN or value in (None, "", [], {}):
            continue
        if key == "stage" and isinstance(value, str) and stage is not None:
            out.append((key, stage(value)))
        elif isinstance(value, dict) and key == "fields":
            out.extend((str(k), _value(v)) for k, v in value.items())
        else:
            out.append((key, _value(value)))
    return out


def open_timers(session, member_id: str, entity: str, record_id: int) -> list:
    """The record's pending and enqueued timers, by due time."""
    rows = [
        row
        for state in OPEN_STATES
        for row in timers.list_timers(
            session, member_id=member_id, state=state, record=(entity, record_id), limit=MAX_ROWS
        )
    ]
    return sorted(rows, key=lambda r: (r.due_at, r.id))


def _collect(ctx: WidgetContext) -> dict[str, Any]:
    with ctx.services.session() as session:
        entity = record_entity(ctx, session)
        clock = portal_people(session, ctx.member_id)

        titles = stage_titles(ctx.lang)

        def person(user_id: Any) -> str:
            return clock.name(user_id) or str(user_id)

        def stage(code: str) -> str:
            return f"«{titles[code]}»" if code in titles else code

        rows = audit.for_record(session, ctx.member_id, entity, ctx.record_id)[-MAX_ROWS:]
        actions = [
            {
                "at": clock.when(r.at),
                "rule": r.rule,
                "cause": describe_cause(ctx, r.cause, person, stage),
                "type": r.action_type,
                "wrote": written(r.action, stage),
                "status": r.status,
                "error": r.error or "",
            }
            for r in reversed(rows)
        ]
        messages = [
            {
                "at": clock.when(m.created_at),
                "rule": m.rule,
                "channel": m.channel or m.wanted,
                "recipient": m.recipient or "",
                "state": m.state,
                "error": m.error or "",
            }
            # the latest MAX_ROWS, as for the audit: a record in a message loop stays readable
            for m in outbox.for_record(session, ctx.member_id, entity, ctx.record_id)[-MAX_ROWS:]
        ]
        pending = [
            {"id": tm.id, "kind": tm.kind, "due": clock.when(tm.due_at), "by": tm.created_by or "—"}
            for tm in open_timers(session, ctx.member_id, entity, ctx.record_id)
        ]
        title = record_title(mirror.get(session, ctx.member_id, entity, ctx.record_id))
    label = f"#{ctx.record_id}" + (f" «{title}»" if title else "")
    return {
        "actions": actions,
        "messages": messages,
        "timers": pending,
        "tz": clock.label(),
        "record_label": label,
    }


def record_title(raw: dict[str, Any] | None) -> str:
    """What the card calls the record: its title, else a person's name."""
    if not raw:
        return ""
    if raw.get("title"):
        return str(raw["title"])
    parts = (raw.get(k) for k in ("lastName", "name", "secondName"))
    return " ".join(str(p) for p in parts if p)


def render_tab(ctx: WidgetContext) -> str:
    """The tab's page (see module docstring)."""
    try:
        who, bearer = bearer_for(ctx)
    except WidgetError as exc:
        # the frame is authenticated, so the record's history may be shown; only who is
        # looking is unknown (the portal did not answer user.current): no admin controls
        log.warning("automation tab without a viewer: %s", exc)
        who, bearer = None, ""
    data = _collect(ctx)
    cfg = {
        "member": ctx.member_id,
        "bearer": bearer,
        "lang": ctx.lang,
        "labels": _script_labels(ctx),
    }
    admin = bool(who and who.admin)
    body = render(
        BODY,
        L=_labels(ctx),
        admin=admin,
        anonymous=who is None,
        cfg=cfg,
        state=lambda code: t(ctx, *_STATES[code]) if code in _STATES else code,
        **data,
    )
    return page(ctx, t(ctx, "Автоматизация", "Automation"), body)


for _code in (*ENTITIES, "automation_object"):
    register(_code)(render_tab)
