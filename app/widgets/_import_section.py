"""The settings page's «Импорт из Excel» section (metal, issue #17): upload an .xlsx, check
the column mapping, dry-run, import with a progress bar, read and download the refusals.

``render_import_section(ctx, bearer)`` returns an HTML fragment the settings page puts in
its body (``bearer``: the page bearer of ``app.widgets._viewer``; the APIs of
``app.handlers.imports_api`` accept only a portal administrator's). All record values the
script shows (headers, refusal details) go into the page with ``textContent``, never as
markup; the server-rendered part is Jinja2 with autoescaping.
"""

from __future__ import annotations

from app.importer.columns import FIELDS
from app.widgets import WidgetContext, render, t

SECTION = """
<section id="import-section">
<style>
#import-section table{margin:8px 0}#import-section select{min-width:220px}
#imp-progress{width:320px;vertical-align:middle}#imp-report td,#imp-report th{width:auto}
</style>
<h2>{{ L.title }}</h2>
<p class="muted">{{ L.intro }}</p>
<p><input type="file" id="imp-file" accept=".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet">
<button type="button" id="imp-upload">{{ L.upload }}</button></p>
<div id="imp-mapping" hidden>
<table id="imp-columns"><tr><th>{{ L.column }}</th><th>{{ L.field }}</th></tr></table>
<p><label>{{ L.duplicates }} <select id="imp-mode">
<option value="skip">{{ L.skip }}</option><option value="merge">{{ L.merge }}</option>
</select></label>
<label>{{ L.default_manager }} <input id="imp-manager" type="number" min="1" step="1"></label></p>
<p><button type="button" id="imp-dry">{{ L.dry }}</button>
<button type="button" id="imp-run" class="secondary" disabled>{{ L.run }}</button></p>
</div>
<p><progress id="imp-progress" hidden></progress> <span id="imp-count" class="muted"></span></p>
<div class="msg" id="imp-msg" role="status"></div>
<div id="imp-report"></div>
<script type="application/json" id="imp-data">{{ cfg|tojson }}</script>
<script>
(function(){
var C=JSON.parse(document.getElementById("imp-data").textContent),L=C.labels;
var $=function(id){return document.getElementById(id);};
var base="/imports/"+encodeURIComponent(C.member),upload=null,detected={},checked=null;
function el(tag,text,cls){var e=document.createElement(tag);if(text!=null)e.textContent=text;
 if(cls)e.className=cls;return e;}
function say(text,cls){var m=$("imp-msg");m.textContent=text||"";m.className="msg "+(cls||"");
 fit();}
// the section grows after the page loaded: the portal's frame follows it
function fit(){try{if(window.BX24)BX24.fitWindow();}catch(e){}}
function answer(r){return r.json().catch(function(){return {};}).then(function(d){
 if(r.ok)return d;var e=d.error;if(e&&typeof e!=="string")e=JSON.stringify(e);
 throw new Error(e||String(r.status));});}
function call(method,path,body){var o={method:method,headers:{}};
 if(body instanceof FormData)o.body=body;
 else if(body){o.headers["Content-Type"]="application/json";o.body=JSON.stringify(body);}
 return B24Page.fetch(C,base+path+(path.indexOf("?")<0?"?":"&")+"lang="+C.lang,o).then(answer);}
function options(){var o={overrides:{},mode:$("imp-mode").value};
 document.querySelectorAll("#imp-columns select").forEach(function(s){
  var h=s.getAttribute("data-header");if(s.value!==(detected[h]||"-"))o.overrides[h]=s.value;});
 var m=parseInt($("imp-manager").value,10);if(m>0)o.default_manager=m;return o;}
function changed(){$("imp-run").disabled=checked!==JSON.stringify(options());}
function columns(d){var t=$("imp-columns");while(t.rows.length>1)t.deleteRow(1);detected={};
 d.columns.forEach(function(c){detected[c.header]=c.field;var tr=el("tr");
  tr.appendChild(el("td",c.header));var td=el("td"),s=el("select");
  s.setAttribute("data-header",c.header);
  ["-"].concat(d.fields).forEach(function(f){var o=el("option",L.fields[f]||f);o.value=f;
   s.appendChild(o);});s.value=c.field||"-";s.onchange=changed;td.appendChild(s);
  tr.appendChild(td);t.appendChild(tr);});
 $("imp-mapping").hidden=false;fit();}
$("imp-upload").onclick=function(){var f=$("imp-file").files[0];if(!f)return say(L.choose,"error");
 var form=new FormData();form.append("file",f);say(L.uploading);$("imp-report").textContent="";
 call("POST","/uploads",form).then(function(d){upload=d.upload;checked=null;columns(d);
  changed();say(L.uploaded,"ok");}).catch(function(e){say(e.message,"error");});};
function busy(on){["imp-upload","imp-dry"].forEach(function(id){$(id).disabled=on;});
 if(on)$("imp-run").disabled=true;}
function start(kind){var body=options();busy(true);say(L.wait);$("imp-report").textContent="";
 call("POST","/uploads/"+upload+"/"+kind,body).then(function(d){poll(d.job,body);})
 .catch(function(e){busy(false);changed();say(e.message,"error");});}
$("imp-dry").onclick=function(){start("dry-run");};
$("imp-run").onclick=function(){if(confirm(L.sure))start("run");};
$("imp-mode").onchange=changed;$("imp-manager").oninput=changed;
function poll(job,body){call("GET","/jobs/"+job).then(function(d){var p=$("imp-progress");
  p.hidden=false;if(d.total){p.max=d.total;p.value=d.done;
   $("imp-count").textContent=d.done+" / "+d.total;}else{p.removeAttribute("value");}
  if(d.state==="done"){p.hidden=true;$("imp-count").textContent="";busy(false);
   if(d.dry_run)checked=JSON.stringify(body);changed();report(d.report);return;}
  if(d.state==="failed"){p.hidden=true;busy(false);changed();say(d.error,"error");return;}
  setTimeout(function(){poll(job,body);},1000);})
 .catch(function(e){busy(false);say(e.message,"error");});}
function report(r){var box=$("imp-report");box.textContent="";
 say(r.dry_run?L.dry_done:L.done,"ok");
 var counts=Object.keys(r.counts).sort().map(function(k){return (L.outcomes[k]||k)+": "+
  r.counts[k];}).join(" · ");box.appendChild(el("p",counts,"")).id="imp-counts";
 if(r.rows.length){var t=el("table");t.id="imp-rows";var h=el("tr");
  [L.row,L.outcome,L.detail].forEach(function(x){h.appendChild(el("th",x));});t.appendChild(h);
  r.rows.forEach(function(row){var tr=el("tr");tr.appendChild(el("td",String(row[0])));
   tr.appendChild(el("td",L.outcomes[row[1]]||row[1]));tr.appendChild(el("td",row[2]));
   t.appendChild(tr);});box.appendChild(t);
  if(r.more_rows)box.appendChild(el("p",L.more.replace("{n}",r.more_rows),"muted"));}
 if(!r.dry_run){var b=el("button",L.csv,"secondary");b.type="button";b.id="imp-csv";
  b.onclick=function(){B24Page.fetch(C,base+"/runs/"+r.run_id+"/report.csv",{}).then(function(x){return x.blob();}).then(function(x){
   var a=el("a");a.href=URL.createObjectURL(x);a.download="import-"+r.run_id+".csv";
   document.body.appendChild(a);a.click();a.remove();});};box.appendChild(b);}fit();}
})();
</script>
</section>
"""

FIELD_LABELS = {
    "company": ("Компания", "Company"),
    "inn": ("ИНН", "INN"),
    "contact": ("Контактное лицо", "Contact person"),
    "phone": ("Телефон", "Phone"),
    "email": ("E-mail", "E-mail"),
    "manager": ("Ответственный", "Responsible"),
    "object": ("Объект", "Object"),
    "width": ("Ширина, м", "Width, m"),
    "length": ("Длина, м", "Length, m"),
    "height": ("Высота, м", "Height, m"),
    "area": ("Площадь, м²", "Area, m²"),
    "site": ("Место строительства", "Construction site"),
    "purpose": ("Назначение здания", "Building purpose"),
}


def _labels(ctx: WidgetContext) -> dict[str, str]:
    return {
        "title": t(ctx, "Импорт клиентов из Excel", "Import clients from Excel"),
        "intro": t(
            ctx,
            "Компании, контакты, ответственные и объекты из таблицы .xlsx. Сначала пробный "
            "прогон: он покажет, что будет создано, какие строки — дубли и какие отклонены.",
            "Companies, contacts, their responsible and Objects from an .xlsx sheet. A dry run "
            "first shows what would be created, which rows are duplicates and which are refused.",
        ),
        "upload": t(ctx, "Загрузить", "Upload"),
        "column": t(ctx, "Столбец таблицы", "Sheet column"),
        "field": t(ctx, "Поле", "Field"),
        "duplicates": t(ctx, "Дубли в портале:", "Duplicates on the portal:"),
        "skip": t(ctx, "пропускать строку", "skip the row"),
        "merge": t(ctx, "дополнять существующую запись", "fill the existing record's blanks"),
        "default_manager": t(
            ctx, "Ответственный по умолчанию (ID):", "Default responsible (user id):"
        ),
        "dry": t(ctx, "Пробный прогон", "Dry run"),
        "run": t(ctx, "Импортировать", "Import"),
    }


def _script_labels(ctx: WidgetContext) -> dict:
    lang = 1 if ctx.lang == "en" else 0
    return {
        "choose": t(ctx, "Выберите файл .xlsx", "Choose an .xlsx file"),
        "uploading": t(ctx, "Загружаем…", "Uploading…"),
        "uploaded": t(
            ctx, "Файл загружен. Проверьте столбцы.", "File uploaded. Check the columns."
        ),
        "wait": t(ctx, "Работаем… можно не закрывать страницу", "Working…"),
        "sure": t(ctx, "Записать клиентов в портал?", "Write the clients to the portal?"),
        "dry_done": t(
            ctx,
            "Пробный прогон готов, в портал ничего не записано.",
            "Dry run finished; nothing was written.",
        ),
        "done": t(ctx, "Импорт завершён.", "Import finished."),
        "row": t(ctx, "Строка", "Row"),
        "outcome": t(ctx, "Итог", "Outcome"),
        "detail": t(ctx, "Почему", "Why"),
        "more": t(ctx, "…и ещё {n} строк в CSV", "…and {n} more rows in the CSV"),
        "csv": t(ctx, "Скачать отчёт CSV", "Download the CSV report"),
        "outcomes": {
            "created": t(ctx, "создано", "created"),
            "merged": t(ctx, "дополнено", "merged"),
            "skipped": t(ctx, "дубль, пропущено", "duplicate, skipped"),
            "refused": t(ctx, "отклонено", "refused"),
            "failed": t(ctx, "ошибка портала", "portal error"),
        },
        "fields": {
            "-": t(ctx, "— не импортировать", "— do not import"),
            **{f: FIELD_LABELS.get(f, (f, f))[lang] for f in FIELDS},
        },
    }


def render_import_section(ctx: WidgetContext, bearer: str) -> str:
    """The import section's HTML (a fragment for :func:`app.widgets.page`'s body)."""
    cfg = {
        "member": ctx.member_id,
        "lang": ctx.lang,
        "bearer": bearer,
        "labels": _script_labels(ctx),
    }
    return render(SECTION, L=_labels(ctx), cfg=cfg)
