"""The settings page's script (``app.widgets.settings``): tabs, the whole-form save with
each refusal next to its field, the table editors' rows, enable/disable/retry and the
install progress poll. It reads its data from the page's ``#cfg`` JSON and calls
``app.handlers.settings_api`` with the page bearer; every dynamic value goes in with
``textContent``. A constant, not a template: nothing is interpolated into it.
"""

SCRIPT = """<script>
(function(){
var cfg=JSON.parse(document.getElementById("cfg").textContent),L=cfg.labels;
var base="/pages/"+encodeURIComponent(cfg.member)+"/",q="?lang="+cfg.lang;
function $(s,root){return (root||document).querySelector(s);}
function all(s,root){return Array.prototype.slice.call((root||document).querySelectorAll(s));}
function fit(){try{if(window.BX24){BX24.fitWindow();}}catch(e){}}
function api(method,path,body){
  return B24Page.fetch(cfg,base+path+q,{method:method,headers:{"Content-Type":"application/json"},
    body:body?JSON.stringify(body):undefined})
  .then(function(r){return r.json().catch(function(){return {};}).then(function(d){
    return {status:r.status,data:d};});});
}
all(".ui-tab").forEach(function(tab){tab.addEventListener("click",function(){
  all(".ui-tab").forEach(function(x){x.classList.toggle("is-active",x===tab);
    x.setAttribute("aria-selected",x===tab?"true":"false");});
  all(".ui-tab-panel").forEach(function(p){
    p.classList.toggle("is-active",p.id==="tab-"+tab.getAttribute("data-tab"));});
  fit();
});});
function cells(row){return all("td input",row).map(function(i){return i.value;});}
function collect(form){
  var values={};
  all(".ui-form-row",form).forEach(function(row){
    var key=row.getAttribute("data-key"),kind=row.getAttribute("data-kind");
    var shape=row.getAttribute("data-shape");
    if(kind==="table"&&shape!=="json"){
      values[key]={rows:all("tbody tr",row).map(cells)};
    }else{
      var input=$("[name]",row);
      values[key]=input.type==="checkbox"?input.checked:input.value;
    }
  });
  return values;
}
function showErrors(form,errors){
  all(".ui-form-error",form).forEach(function(el){
    var key=el.getAttribute("data-error-for"),msg=errors[key]||"";
    el.textContent=msg;
    all("input,textarea",el.parentNode).forEach(function(i){
      i.classList.toggle("ui-ctl-invalid",!!msg);});
  });
}
function status(form,text,cls){var el=$(".form-status",form);el.textContent=text;
  el.className="ui-alert form-status "+(cls||"");}
function history(rows){
  var body=$("#history tbody");if(!rows||!body){return;}
  body.textContent="";
  rows.forEach(function(h){var tr=document.createElement("tr");
    [h.when,h.who,h.playbook,h.key,h.old,h.new].forEach(function(v){
      var td=document.createElement("td");td.textContent=v;tr.appendChild(td);});
    body.appendChild(tr);});
  $("#history-empty").hidden=rows.length>0;
}
all("form.settings-form").forEach(function(form){
  form.addEventListener("submit",function(ev){
    ev.preventDefault();
    var button=$(".save",form);if(button){button.disabled=true;}
    status(form,L.saving,"");
    api("POST","settings/"+encodeURIComponent(form.getAttribute("data-playbook")),
        {values:collect(form)}).then(function(res){
      if(button){button.disabled=false;}
      if(res.status===422){showErrors(form,res.data.errors||{});
        status(form,L.not_saved,"ui-alert-danger");}
      else if(res.status===200){showErrors(form,{});
        var n=Object.keys(res.data.changed||{}).length;
        status(form,n?L.saved+": "+n:L.nothing,"ui-alert-success");history(res.data.history);}
      else{status(form,(res.data&&res.data.error)||L.failed,"ui-alert-danger");}
      fit();
    },function(){if(button){button.disabled=false;}status(form,L.failed,"ui-alert-danger");});
  });
});
document.addEventListener("click",function(ev){
  var t=ev.target;
  if(t.classList.contains("row-del")){var tr=t.closest("tr");tr.parentNode.removeChild(tr);fit();}
  if(t.classList.contains("row-add")){
    var table=t.previousElementSibling,n=all("thead th",table).length-1;
    var tr=document.createElement("tr");
    for(var i=0;i<n;i++){var td=document.createElement("td"),inp=document.createElement("input");
      inp.type="text";td.appendChild(inp);tr.appendChild(td);}
    var td=document.createElement("td"),del=document.createElement("button");
    del.type="button";del.className="ui-btn ui-btn-xs ui-btn-link row-del";del.textContent="×";
    td.appendChild(del);tr.appendChild(td);$("tbody",table).appendChild(tr);fit();
  }
});
var polling=null;
function showInstall(s){
  var bar=$("#install-bar"),state=$("#install-state"),err=$("#install-error");
  var steps=$("#install-steps"),retry=$("#retry");
  var pct=s.done?100:(s.step?Math.round(100*s.step[0]/Math.max(1,s.step[1])):(s.failed?0:10));
  bar.style.width=pct+"%";
  state.textContent=s.done?L.done:(s.failed?L.failed_install:
    (s.progress==="queued"?L.queued:(s.progress||"—")));
  state.setAttribute("data-state",s.done?"done":(s.failed?"failed":"running"));
  err.textContent=s.failed?(s.error||""):"";
  steps.textContent="";
  (s.steps||[]).forEach(function(x){var li=document.createElement("li");li.textContent=x;
    steps.appendChild(li);});
  if(retry){retry.hidden=!s.failed;}
  var running=!s.done&&!s.failed&&!!s.progress,count=(s.playbooks||[]).length;
  all("#playbooks tr[data-playbook]").forEach(function(tr){
    var on=(s.playbooks||[]).indexOf(tr.getAttribute("data-playbook"))>=0;
    var label=$(".pb-state",tr),b=$(".pb-toggle",tr);
    label.textContent=on?L.on:L.off;
    label.className="ui-label pb-state"+(on?" ui-label-success":"");
    if(b){b.setAttribute("data-action",on?"disable":"enable");
      b.textContent=on?L.disable:L.enable;
      b.className="ui-btn ui-btn-xs pb-toggle"+(on?" ui-btn-light-border":"");
      b.disabled=running||(on&&count<=1);}
  });
  var fresh=(s.playbooks||[]).filter(function(n){return cfg.shown.indexOf(n)<0;});
  $("#reopen").hidden=!(s.done&&fresh.length);
  fit();
  return s.done||s.failed;
}
function poll(){
  api("GET","install/status").then(function(res){
    if(res.status!==200){return;}
    if(showInstall(res.data)&&polling){clearInterval(polling);polling=null;}
  });
}
function queued(){var st=$("#install-state");st.textContent=L.queued;
  st.setAttribute("data-state","running");}
function startPolling(){if(!polling){polling=setInterval(poll,1000);}poll();}
all(".pb-toggle").forEach(function(b){b.addEventListener("click",function(){
  var tr=b.closest("tr"),name=tr.getAttribute("data-playbook");
  b.disabled=true;
  api("POST","playbooks/"+encodeURIComponent(name)+"/"+b.getAttribute("data-action"))
  .then(function(res){
    if(res.status===202){queued();startPolling();}
    else{b.disabled=false;$("#install-error").textContent=(res.data&&res.data.error)||L.failed;}
  });
});});
var retry=$("#retry");
if(retry){retry.addEventListener("click",function(){retry.disabled=true;
  api("POST","install/retry").then(function(res){retry.disabled=false;
    if(res.status===202){queued();startPolling();}});});}
showInstall(cfg.install);
if(!cfg.install.done&&!cfg.install.failed&&cfg.install.progress){startPolling();}
})();
</script>
"""
