"""«Объект» tab on a lead (metal): the Object linked to the lead, from the mirror.

The link is the lead's ``UF_CRM_MT_OBJECT`` field, else an Object whose parent is the lead
(``parentId1``). Shows site, area, tonnage, purpose, stage, responsible and how many
duplicate candidates the Object has. When the lead has no Object yet, the employee sees
the Objects with the lead's duplicate key and chooses: link one of them or create a new
Object from the lead (spec §1 lead rule 6, ``app.objects.choice`` /
``app.handlers.object_choice``).
"""

from __future__ import annotations

from app.objects import index
from app.objects.choice import lead_choice
from app.objects.keys import linked_object
from app.rules.changes import normalize
from app.store import mirror
from app.widgets import WidgetContext, WidgetError, page, register, render, t
from app.widgets._metal import load_object
from app.widgets._store import naming

BODY = """
{% if obj is none %}
<div class="empty" id="no-object">{{ empty }}</div>
{% if choice %}{{ choice }}{% endif %}
{% else %}
<table id="object">
<tr><th>{{ L.object }}</th><td>#{{ obj.id }} {{ obj.title }}</td></tr>
<tr><th>{{ L.site }}</th><td>{{ obj.site or "—" }}</td></tr>
<tr><th>{{ L.area }}</th><td>{{ obj.area if obj.area != "" else "—" }}</td></tr>
<tr><th>{{ L.tonnage }}</th><td>{{ obj.tonnage if obj.tonnage != "" else "—" }}</td></tr>
<tr><th>{{ L.purpose }}</th><td>{{ obj.purpose or "—" }}</td></tr>
<tr><th>{{ L.stage }}</th><td>{{ obj.stage or "—" }}</td></tr>
<tr><th>{{ L.responsible }}</th><td>{{ obj.responsible or "—" }}</td></tr>
<tr><th>{{ L.duplicates }}</th><td id="duplicates">{{ obj.duplicates|length }}
{% if obj.duplicates %}<span class="muted">(#{{ obj.duplicates|join(", #") }})
— {{ L.merge_hint }}</span>{% endif %}</td></tr>
</table>
{% endif %}
"""


def _labels(ctx: WidgetContext) -> dict[str, str]:
    return {
        "object": t(ctx, "Объект", "Object"),
        "site": t(ctx, "Адрес / площадка", "Address / site"),
        "area": t(ctx, "Площадь, м²", "Area, m²"),
        "tonnage": t(ctx, "Тоннаж, т", "Tonnage, t"),
        "purpose": t(ctx, "Назначение", "Purpose"),
        "stage": t(ctx, "Стадия", "Stage"),
        "responsible": t(ctx, "Ответственный", "Responsible"),
        "duplicates": t(ctx, "Возможные дубли", "Duplicate candidates"),
        "merge_hint": t(
            ctx, "объединить можно на вкладке «Дубли объекта»", "merge them on the Object's tab"
        ),
    }


def linked_object_id(session, member_id: str, lead_id: int) -> int | None:
    """The Object of the lead: its binding field, else the first Object parented to it."""
    raw = mirror.get(session, member_id, "lead", lead_id)
    if raw is not None:
        found = linked_object(normalize("lead", raw, naming(session, member_id)))
        if found:
            return found
    children = index.linked(session, member_id, "lead", lead_id)
    return children[0] if children else None


CHOICE = """
<h2>{{ L.choose }}</h2>
{% if missing %}<div class="error" id="missing">{{ L.missing }} {{ missing|join(", ") }}</div>
{% endif %}
{% if candidates %}
<p id="dup-note">{{ L.dups }}</p>
<table id="candidates">
<tr><th>{{ L.object }}</th><th>{{ L.site }}</th><th>{{ L.area }}</th><th>{{ L.purpose }}</th>
<th>{{ L.responsible }}</th><th></th></tr>
{% for c in candidates %}
<tr><td>#{{ c.id }} {{ c.title }}</td><td>{{ c.site or "—" }}</td>
<td>{{ c.area if c.area != "" else "—" }}</td><td>{{ c.purpose or "—" }}</td>
<td>{{ c.responsible or "—" }}</td>
<td><button type="button" class="link" data-object="{{ c.id }}">{{ L.link }}</button></td></tr>
{% endfor %}
</table>
{% elif not missing %}<p class="muted" id="no-dups">{{ L.no_dups }}</p>{% endif %}
<p><button type="button" id="create"{% if missing %} disabled{% endif %}
{% if candidates %} class="secondary"{% endif %}>
{{ L.create_anyway if candidates else L.create }}</button></p>
<div class="msg" id="msg" role="status"></div>
<script type="application/json" id="cfg">{{ cfg|tojson }}</script>
<script>
(function(){
var cfg=JSON.parse(document.getElementById("cfg").textContent),L=cfg.labels;
var $=function(id){return document.getElementById(id);};
var url="/objects/"+encodeURIComponent(cfg.member)+"/leads/"+cfg.lead+"/choice?lang="+cfg.lang;
function say(text,cls){var m=$("msg");m.textContent=text||"";m.className="msg "+(cls||"");}
function buttons(on){document.querySelectorAll("button").forEach(function(b){
 b.disabled=!on;});}
function call(method,body){return B24Page.fetch(cfg,url,{method:method,headers:{
 "Content-Type":"application/json"},body:body?JSON.stringify(body):undefined})
 .then(function(r){return r.json().catch(function(){return {};}).then(function(d){
  if(r.ok)return d;var e=d.error;
  throw new Error(typeof e==="string"?e:JSON.stringify(e||r.status));});});}
function wait(left){call("GET").then(function(d){
  if(d.linked){say(L.linked.replace("{id}",d.linked),"ok");return;}
  if(left<=0){say(L.slow);buttons(true);return;}
  setTimeout(function(){wait(left-1);},1500);})
 .catch(function(e){say(e.message,"error");buttons(true);});}
function choose(body){buttons(false);say(L.wait);
 call("POST",body).then(function(){say(L.queued);wait(40);})
 .catch(function(e){say(e.message,"error");buttons(true);});}
document.querySelectorAll("button.link").forEach(function(b){b.onclick=function(){
 choose({action:"link",object_id:parseInt(this.getAttribute("data-object"),10)});};});
if($("create"))$("create").onclick=function(){choose({action:"create"});};
})();
</script>
"""


def _choice_labels(ctx: WidgetContext) -> dict[str, str]:
    return {
        **_labels(ctx),
        "choose": t(ctx, "Создать объект или привязать существующий", "Create or link an Object"),
        "missing": t(
            ctx, "Чтобы проверить дубли, заполните в лиде:", "To check for duplicates, fill in:"
        ),
        "dups": t(
            ctx,
            "Найдены объекты с теми же размерами и местом. Привяжите подходящий или создайте новый.",
            "Objects with the same dimensions and site exist. Link the right one or create a new one.",
        ),
        "no_dups": t(ctx, "Похожих объектов нет.", "No similar Objects."),
        "link": t(ctx, "Привязать этот", "Link this one"),
        "create": t(ctx, "Создать объект из лида", "Create an Object from the lead"),
        "create_anyway": t(ctx, "Всё равно создать новый", "Create a new one anyway"),
    }


def _choice_script_labels(ctx: WidgetContext) -> dict[str, str]:
    return {
        "wait": t(ctx, "Отправляем…", "Sending…"),
        "queued": t(
            ctx,
            "Принято, объект появится через несколько секунд…",
            "Accepted, the Object appears in a few seconds…",
        ),
        "linked": t(ctx, "Объект #{id} привязан к лиду.", "Object #{id} is linked to the lead."),
        "slow": t(
            ctx,
            "Портал отвечает медленно — обновите вкладку позже.",
            "The portal is slow — reload the tab later.",
        ),
    }


def _choice(ctx: WidgetContext, session, found) -> str:
    """The create-or-link section (its page bearer names the viewer for the audit)."""
    from app.objects.choice import KEY_LABELS
    from app.widgets._viewer import bearer_for

    try:
        _, bearer = bearer_for(ctx)
    except WidgetError as exc:  # who is looking is unknown: the tab still shows the lead
        return render('<p class="muted" id="choice-unavailable">{{ text }}</p>', text=str(exc))
    candidates = [
        view
        for view in (load_object(session, ctx.member_id, i, ctx.lang) for i in found.candidates)
        if view is not None
    ]
    missing = [KEY_LABELS[k][1 if ctx.lang == "en" else 0] for k in found.missing]
    cfg = {
        "member": ctx.member_id,
        "lead": ctx.record_id,
        "lang": ctx.lang,
        "bearer": bearer,
        "labels": _choice_script_labels(ctx),
    }
    return render(CHOICE, candidates=candidates, missing=missing, cfg=cfg, L=_choice_labels(ctx))


@register("lead_object")
def render_page(ctx: WidgetContext) -> str:
    with ctx.services.session() as session:
        object_id = linked_object_id(session, ctx.member_id, ctx.record_id)
        obj = load_object(session, ctx.member_id, object_id, ctx.lang) if object_id else None
        found = None if object_id else lead_choice(session, ctx.member_id, ctx.record_id)
        # the lead is known and has no Object: the employee may create or link one (rule 6)
        choice = _choice(ctx, session, found) if found is not None else None
    if object_id and obj is None:
        empty = t(
            ctx,
            f"Объект #{object_id} ещё не загружен из портала — обновите вкладку позже.",
            f"Object #{object_id} has not been synced yet — reload the tab later.",
        )
    else:
        empty = t(
            ctx,
            "К лиду ещё не привязан объект. Он появится, когда заполнены размеры и место "
            "строительства.",
            "No Object is linked to this lead yet. It appears once the dimensions and the "
            "construction site are filled in.",
        )
    body = render(BODY, obj=obj, empty=empty, choice=choice, L=_labels(ctx))
    return page(ctx, t(ctx, "Объект лида", "Lead's Object"), body)
