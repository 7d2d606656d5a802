"""«Дубли объекта» tab on a metal Object: the merge window.

Server side (store only): the Object, its duplicate candidates from the index, and the
latest merge journals of this Object (so a running merge shows its progress on reopen).
The page's small script drives the existing API of ``app.handlers.objects`` with the
signed bearer: preview (``POST /objects/<m>/merge/preview``), run (``POST …/merge``) and
poll the journal (``GET …/merge/<key>``). Every dynamic value goes in with ``textContent``.
"""

from __future__ import annotations

from sqlalchemy import select

from app.store.objects_index import ObjectMerge
from app.widgets import WidgetContext, page, register, render, t
from app.widgets._metal import load_object
from app.widgets._store import people
from app.widgets._viewer import naming_bearer

RECENT = 5

BODY = """
<style>
.merge-object{display:flex;flex-wrap:wrap;gap:4px 18px;padding:12px 16px;margin:0 0 8px;
background:#f5f7f8;border-radius:2px}
.merge-object b{font-weight:600;color:#333}
.merge-actions{margin:12px 0 0}
#plan>div{padding:6px 0;border-bottom:1px solid #f0f2f3}#plan label{margin-right:14px}
.journal{padding:8px 10px;border-bottom:1px solid #edeef0}
#candidates td:first-child,#candidates th:first-child{width:32px}
</style>
{% if obj is none %}
<div class="empty" id="no-object">{{ L.missing }}</div>
{% else %}
<div class="merge-object"><b>#{{ obj.id }} {{ obj.title }}</b>
<span>{{ obj.site or "—" }}</span><span>{{ obj.area }} м²</span>
<span class="muted">{{ obj.purpose or "—" }}</span></div>
<h2>{{ L.candidates }}</h2>
{% if not candidates %}
<div class="empty" id="no-candidates">{{ L.none }}</div>
{% else %}
<table id="candidates" class="ui-table">
<thead><tr><th></th><th>{{ L.object }}</th><th>{{ L.site }}</th><th>{{ L.area }}</th>
<th>{{ L.responsible }}</th></tr></thead>
{% for c in candidates %}
<tr><td><input type="checkbox" class="dup" value="{{ c.id }}" checked></td>
<td>#{{ c.id }} {{ c.title }}</td><td>{{ c.site }}</td><td>{{ c.area }}</td>
<td>{{ c.responsible }}</td></tr>
{% endfor %}
</table>
<p class="merge-actions">
<button id="preview" type="button" class="ui-btn ui-btn-light-border">{{ L.preview }}</button>
<button id="merge" type="button" class="ui-btn ui-btn-success" disabled>{{ L.merge }}</button></p>
{% endif %}
<div class="msg ui-alert" id="msg" role="status"></div>
<div id="plan"></div>
<h2>{{ L.journal }}</h2>
<div id="journal">
{% for j in journals %}
<div class="journal" data-key="{{ j.key }}" data-state="{{ j.state }}">
{{ j.created }} · <span class="ui-label{% if j.state == 'applied' %} ui-label-success{% elif
j.state in ('failed', 'refused') %} ui-label-danger{% endif %}">{{ L.states.get(j.state, j.state)
}}</span>{% if j.error %}:
<span class="error">{{ j.error }}</span>{% endif %}</div>
{% else %}<div class="empty">{{ L.no_journal }}</div>{% endfor %}
</div>
{% endif %}
<script type="application/json" id="cfg">{{ cfg|tojson }}</script>
<script>
(function(){
var cfg=JSON.parse(document.getElementById("cfg").textContent),L=cfg.labels;
var $=function(id){return document.getElementById(id);};
var base="/objects/"+encodeURIComponent(cfg.member)+"/merge",choices={},planned=false;
var ALERT={error:"ui-alert-danger",ok:"ui-alert-success"};
function say(text,cls){var m=$("msg");if(!m)return;m.textContent=text||"";
m.className="msg ui-alert "+(cls?ALERT[cls]+" "+cls:"");fit();}
function fit(){try{if(window.BX24){BX24.fitWindow();}}catch(e){}}
function api(method,url,body){
 return B24Page.fetch(cfg,url,{method:method,headers:{"Content-Type":"application/json"},
 body:body?JSON.stringify(body):undefined})
 .then(function(r){return r.json().catch(function(){return {};}).then(function(d){
  if(r.ok)return d;var e=d.error;if(r.status===401)e=L.expired;
  if(typeof e!=="string")e=JSON.stringify(e||r.status);var x=new Error(e);x.status=r.status;
  throw x;});});}
function body(){var ids=[];document.querySelectorAll("input.dup:checked").forEach(
 function(b){ids.push(parseInt(b.value,10));});
 return {main_id:cfg.object,duplicate_ids:ids,choices:choices};}
function row(parent,text,cls){var d=document.createElement("div");d.textContent=text;
 if(cls)d.className=cls;parent.appendChild(d);return d;}
function showPlan(p){var box=$("plan");box.textContent="";
 row(box,L.writes+": "+(Object.keys(p.updates).join(", ")||"—"));
 row(box,L.moves+": "+p.moves.length+"; "+L.deletes+": #"+p.deletes.join(", #"));
 p.conflicts.forEach(function(c){var d=row(box,L.conflict+" "+c.field+": ","");
  c.values.forEach(function(v){var l=document.createElement("label"),
  r=document.createElement("input");r.type="radio";r.name="c_"+c.field;r.value=v[0];
  r.checked=(choices[c.field]||c.kept_from)===v[0];
  r.onchange=function(){choices[c.field]=v[0];};l.appendChild(r);
  l.appendChild(document.createTextNode(" #"+v[0]+": "+v[1]+"  "));d.appendChild(l);});});
 fit();}
function poll(key,waited){waited=waited||0;
 api("GET",base+"/"+encodeURIComponent(key)).then(function(j){
 var done=j.steps.filter(function(s){return s.state==="applied";}).length;
 say((L.states[j.state]||j.state)+" · "+done+"/"+j.steps.length+(j.error?": "+j.error:""),
 j.state==="failed"||j.state==="refused"?"error":(j.state==="applied"?"ok":""));
 if(j.state==="planned"||j.state==="running")setTimeout(function(){poll(key);},2000);
}).catch(function(e){if(e.status===404&&waited<60){say(L.queued);
 setTimeout(function(){poll(key,waited+1);},2000);}else say(e.message,"error");});}
if($("preview"))$("preview").onclick=function(){say(L.wait);
 api("POST",base+"/preview",body()).then(function(p){showPlan(p);planned=true;
 $("merge").disabled=false;say(p.conflicts.length?L.choose:"");})
 .catch(function(e){say(e.message,"error");});};
if($("merge"))$("merge").onclick=function(){if(!planned||!confirm(L.sure))return;
 $("merge").disabled=true;api("POST",base,body()).then(function(d){say(L.started);
 poll(d.key);}).catch(function(e){$("merge").disabled=false;say(e.message,"error");});};
document.querySelectorAll(".journal").forEach(function(j){var s=j.getAttribute("data-state");
 if(s==="planned"||s==="running")poll(j.getAttribute("data-key"));});
})();
</script>
"""


def _labels(ctx: WidgetContext) -> dict:
    return {
        "missing": t(
            ctx,
            "Объект ещё не загружен из портала — обновите вкладку позже.",
            "This Object has not been synced yet — reload the tab later.",
        ),
        "candidates": t(ctx, "Возможные дубли", "Duplicate candidates"),
        "none": t(ctx, "Дублей не найдено.", "No duplicates found."),
        "object": t(ctx, "Объект", "Object"),
        "site": t(ctx, "Адрес / площадка", "Address / site"),
        "area": t(ctx, "Площадь, м²", "Area, m²"),
        "responsible": t(ctx, "Ответственный", "Responsible"),
        "preview": t(ctx, "Показать, что изменится", "Preview"),
        "merge": t(ctx, "Объединить", "Merge"),
        "journal": t(ctx, "Журнал объединений", "Merge journal"),
        "no_journal": t(ctx, "Объединений ещё не было.", "No merges yet."),
        "states": {
            "planned": t(ctx, "запланировано", "planned"),
            "running": t(ctx, "выполняется", "running"),
            "applied": t(ctx, "выполнено", "done"),
            "failed": t(ctx, "прервано", "failed"),
            "refused": t(ctx, "отклонено", "refused"),
        },
    }


def _script_labels(ctx: WidgetContext, labels: dict) -> dict:
    return {
        "states": labels["states"],
        "expired": t(
            ctx, "Сессия истекла — откройте вкладку заново.", "Session expired — reopen the tab."
        ),
        "writes": t(ctx, "Запишем в основной объект", "Written to the main Object"),
        "moves": t(ctx, "Перепривязок", "Links moved"),
        "deletes": t(ctx, "удалим", "deleted"),
        "conflict": t(ctx, "Разные значения поля", "Different values of"),
        "choose": t(
            ctx,
            "Есть разные значения: выберите, какое оставить, и нажмите «Показать» ещё раз.",
            "Some values differ: choose which to keep and preview again.",
        ),
        "wait": t(ctx, "Считаем…", "Working…"),
        "sure": t(
            ctx,
            "Объединить выбранные объекты? Дубли будут удалены.",
            "Merge? Duplicates are deleted.",
        ),
        "started": t(ctx, "Объединение запущено…", "Merge started…"),
        # the journal appears when a worker takes the job: until then the key is unknown
        "queued": t(ctx, "Объединение в очереди…", "Merge queued…"),
    }


@register("object_merge")
def render_page(ctx: WidgetContext) -> str:
    with ctx.services.session() as session:
        obj = load_object(session, ctx.member_id, ctx.record_id, ctx.lang)
        candidates = []
        journals = []
        if obj is not None:
            for dup in obj.duplicates:
                found = load_object(session, ctx.member_id, dup, ctx.lang)
                if found is not None:
                    candidates.append(found)
            rows = session.scalars(
                select(ObjectMerge)
                .where(ObjectMerge.member_id == ctx.member_id, ObjectMerge.main_id == obj.id)
                .order_by(ObjectMerge.id.desc())
                .limit(RECENT)
            )
            clock = people(session, ctx.member_id)  # the portal's time, not UTC
            journals = [
                {
                    "key": r.key,
                    "state": r.state,
                    "error": r.error or "",
                    "created": clock.when(r.created_at),
                }
                for r in rows
            ]
    labels = _labels(ctx)
    cfg = {
        "member": ctx.member_id,
        "object": ctx.record_id,
        "bearer": naming_bearer(ctx),  # names who merges: the journal and audit say so
        "labels": _script_labels(ctx, labels),
    }
    body = render(BODY, obj=obj, candidates=candidates, journals=journals, L=labels, cfg=cfg)
    return page(ctx, t(ctx, "Дубли объекта", "Object duplicates"), body)
