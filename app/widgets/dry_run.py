"""Dry-run preview: before enabling a playbook, what it would have done over the last N days.

An admin picks a playbook and a number of days; the page's script calls
``GET /pages/<member_id>/dry-run?playbook=&days=`` (``app.handlers.automation``, admins
only), which replays the mirror's history through the playbook's pure rules
(``app.rules.dry_run``) and writes nothing. The answer is shown as tables: how often each
rule would have acted, the messages that would have gone out (by channel), the records that
would have moved (by target stage), the timers that would have started.

Opened from its own placement (``dry_run`` in ``app.playbooks.app_widgets``) or embedded in
another page with :func:`section` (the settings page: ``section(ctx, bearer)``).
"""

from __future__ import annotations

from markupsafe import Markup

from app.playbooks import NAMES, load
from app.widgets import WidgetContext, WidgetError, page, register, render, t
from app.widgets._viewer import bearer_for

DEFAULT_DAYS = 30

SECTION = """
<style>.dr-table td,.dr-table th{width:auto}.dr-num{text-align:right;width:80px}
.dr-block{margin-top:12px}</style>
<div id="dry-run">
<p class="muted">{{ L.intro }}</p>
<p><label>{{ L.playbook }} <select id="dr-playbook">
{% for code, title in playbooks %}<option value="{{ code }}"{% if code == chosen %} selected
{% endif %}>{{ title }}</option>{% endfor %}</select></label>
<label>{{ L.days }} <input id="dr-days" type="number" min="1" max="365" value="{{ days }}"
 style="width:70px"></label>
<button type="button" id="dr-run">{{ L.run }}</button></p>
<div class="msg" id="dr-msg" role="status"></div>
<div id="dr-result"></div>
<p class="muted">{{ L.caveat }}</p>
</div>
<script type="application/json" id="dr-cfg">{{ cfg|tojson }}</script>
<script>
(function(){
var cfg=JSON.parse(document.getElementById("dr-cfg").textContent),L=cfg.labels;
var $=function(id){return document.getElementById(id);};
function say(text,cls){var m=$("dr-msg");m.textContent=text||"";m.className="msg "+(cls||"");}
function table(id,title,head,rows){var box=document.createElement("div");
 box.className="dr-block";box.id=id;var h=document.createElement("h2");h.textContent=title;
 box.appendChild(h);if(!rows.length){var e=document.createElement("div");e.className="muted";
 e.textContent=L.none;box.appendChild(e);return box;}
 var tb=document.createElement("table");tb.className="dr-table";var tr=document.createElement("tr");
 head.forEach(function(x,i){var th=document.createElement("th");th.textContent=x;
  if(i)th.className="dr-num";tr.appendChild(th);});tb.appendChild(tr);
 rows.forEach(function(r){var row=document.createElement("tr");r.forEach(function(x,i){
  var td=document.createElement("td");td.textContent=String(x);if(i)td.className="dr-num";
  row.appendChild(td);});tb.appendChild(row);});box.appendChild(tb);return box;}
function pairs(o){return Object.keys(o).map(function(k){return [k,o[k]];});}
function show(d){var box=$("dr-result");box.textContent="";
 var s=document.createElement("p");s.id="dr-summary";
 s.textContent=L.summary.replace("{steps}",d.steps).replace("{records}",d.records)
  .replace("{moved}",d.moved_records);box.appendChild(s);
 if(d.truncated){var n=document.createElement("p");n.id="dr-truncated";n.className="muted";
  n.textContent=L.truncated.replace("{since}",d.covered_since.slice(0,10));box.appendChild(n);}
 box.appendChild(table("dr-rules",L.rules,[L.rule,L.times,L.actions],
  Object.keys(d.rules).map(function(k){return [k,d.rules[k],d.actions[k]||0];})));
 box.appendChild(table("dr-messages",L.messages,[L.channel,L.count],pairs(d.messages)));
 box.appendChild(table("dr-moves",L.moves,[L.stage,L.count],pairs(d.moves).map(function(p){
  return [cfg.stages[p[0]]||p[0],p[1]];})));
 box.appendChild(table("dr-timers",L.timers,[L.timer,L.count],pairs(d.timers)));
 if(Object.keys(d.errors).length)box.appendChild(table("dr-errors",L.errors,[L.rule,L.count],
  pairs(d.errors)));
 try{if(window.BX24)BX24.fitWindow();}catch(e){}}
$("dr-run").onclick=function(){var b=this;b.disabled=true;say(L.wait);
 var q="?playbook="+encodeURIComponent($("dr-playbook").value)+"&days="+
  encodeURIComponent($("dr-days").value)+"&lang="+cfg.lang;
 B24Page.fetch(cfg,"/pages/"+encodeURIComponent(cfg.member)+"/dry-run"+q,{}).then(function(r){return r.json().catch(function(){return {};})
  .then(function(d){if(!r.ok)throw new Error(d.error||String(r.status));return d;});})
 .then(function(d){say("");show(d);}).catch(function(e){say(e.message,"error");})
 .then(function(){b.disabled=false;});};
})();
</script>
"""


def _labels(ctx: WidgetContext) -> dict[str, str]:
    return {
        "intro": t(
            ctx,
            "Что сделал бы сценарий за последние дни, если бы был включён: правила прогоняются "
            "по сохранённой истории записей, в портал ничего не пишется.",
            "What the playbook would have done over the last days had it been on: its rules "
            "run over the stored history of the records; nothing is written to the portal.",
        ),
        "playbook": t(ctx, "Сценарий", "Playbook"),
        "days": t(ctx, "Дней", "Days"),
        "run": t(ctx, "Посчитать", "Preview"),
        "caveat": t(
            ctx,
            "Оценка: история — это создания записей и смены стадий; правки полей и то, что "
            "портал знает только в момент события, не учитываются.",
            "An estimate: the history is record creations and stage moves; field edits and "
            "what only the portal knows at the moment of an event are not replayed.",
        ),
    }


def _script_labels(ctx: WidgetContext) -> dict[str, str]:
    return {
        "wait": t(ctx, "Считаем…", "Computing…"),
        "none": t(ctx, "Нет.", "None."),
        "summary": t(
            ctx,
            "Изменений в истории: {steps}, записей: {records}, записей сдвинуто: {moved}.",
            "Changes in the history: {steps}, records: {records}, records moved: {moved}.",
        ),
        "rules": t(ctx, "Правила", "Rules"),
        "rule": t(ctx, "Правило", "Rule"),
        "times": t(ctx, "Сработало", "Fired"),
        "actions": t(ctx, "Действий", "Actions"),
        "messages": t(ctx, "Сообщения клиентам", "Messages to clients"),
        "channel": t(ctx, "Канал", "Channel"),
        "count": t(ctx, "Сколько", "How many"),
        "moves": t(ctx, "Перемещения по стадиям", "Stage moves"),
        "stage": t(ctx, "Стадия", "Stage"),
        "timers": t(ctx, "Таймеры", "Timers"),
        "timer": t(ctx, "Таймер", "Timer"),
        "errors": t(ctx, "Ошибки правил", "Rule errors"),
        "truncated": t(
            ctx,
            "Истории слишком много для одного запроса: посчитаны последние изменения, с {since}.",
            "Too much history for one request: only the latest changes, since {since}, count.",
        ),
    }


def section(ctx: WidgetContext, bearer: str, chosen: str = "") -> Markup:
    """The preview form and its results area, for any page holding an admin's page bearer
    (``app.widgets._viewer.bearer_for``). Element ids start with ``dr-``."""
    playbooks = [(name, getattr(load(name).title, ctx.lang, name)) for name in NAMES]
    from app.widgets.automation import stage_titles

    cfg = {
        "member": ctx.member_id,
        "bearer": bearer,
        "lang": ctx.lang,
        "labels": _script_labels(ctx),
        "stages": stage_titles(ctx.lang),
    }
    return render(
        SECTION,
        L=_labels(ctx),
        playbooks=playbooks,
        chosen=chosen or NAMES[0],
        days=DEFAULT_DAYS,
        cfg=cfg,
    )


@register("dry_run")
def render_page(ctx: WidgetContext) -> str:
    who, bearer = bearer_for(ctx)
    if not who.admin:
        raise WidgetError(
            t(
                ctx,
                "Предпросмотр сценариев доступен только администратору портала",
                "Only a portal administrator can preview playbooks",
            ),
            403,
        )
    title = t(ctx, "Предпросмотр сценария", "Playbook dry run")
    return page(ctx, title, section(ctx, bearer))
