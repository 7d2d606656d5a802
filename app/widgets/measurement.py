"""«Замер» tab on a kitchens lead: the lead's booking, free slots, a day/week calendar of
the measurers, book/move/cancel.

Server side (store only): the lead's active booking, the next free slots of the configured
measurers (``app.booking.service.free_slots``), and what would keep the lead out of
«Замер назначен» (``lead_problems``). The page's small script calls the existing API of
``app.handlers.booking`` with the signed bearer; a 409 (slot taken, outside working hours,
lead not ready) is shown as its problems plus clickable offered slots. The calendar is
drawn by the script from ``GET /booking/<m>/calendar`` (``app.handlers.booking_calendar``);
after a booking, move or cancel the page redraws itself from the API's answer (no reload:
the frame's document came from the portal's POST).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.booking import service
from app.playbooks.settings import effective
from app.rules.changes import normalize
from app.store import bookings, mirror
from app.widgets import WidgetContext, page, register, render, t
from app.widgets._store import naming, user_name
from app.widgets._viewer import naming_bearer

SLOTS = 8

BODY = """
<style>
#cal-bar{display:flex;gap:6px;align-items:center;flex-wrap:wrap;margin:4px 0 8px}
#cal-bar .on{background:#2fc6f6;color:#fff}#range{margin-left:8px;font-weight:600}
#cal td,#cal th{text-align:center;width:auto;border:1px solid #eef2f4;padding:4px}
#cal th.time,#cal td.time{color:#828b95;white-space:nowrap}
#cal .slot{margin:1px}#cal .busy{color:#c0392b}#cal .mine{color:#2e7d32;font-weight:600}
#cal .past,#cal .off{color:#b9c0c7}
</style>
{% if problems %}<div class="error" id="lead-problems">{{ L.not_ready }}
<ul>{% for p in problems %}<li>{{ p }}</li>{% endfor %}</ul></div>{% endif %}
<h2>{{ L.current }}</h2>
<div id="current">
{% if booking %}
<table id="booking">
<tr><th>{{ L.when }}</th><td>{{ booking.when }}</td></tr>
<tr><th>{{ L.measurer }}</th><td>{{ booking.measurer }}</td></tr>
<tr><th>{{ L.address }}</th><td>{{ booking.address or "—" }}</td></tr>
<tr><th>{{ L.contact }}</th><td>{{ booking.contact or "—" }}</td></tr>
</table>
<p><button id="cancel" type="button" class="secondary">{{ L.cancel }}</button>
<span class="muted">{{ L.move_hint }}</span></p>
{% else %}
<div class="empty" id="no-booking">{{ L.none }}</div>
{% endif %}
</div>
<p id="book-form"{% if booking %} hidden{% endif %}>
<label>{{ L.address }} <input id="address" maxlength="500" value="{{ address }}"></label>
<label>{{ L.contact }} <input id="contact" maxlength="200"></label><br>
<label>{{ L.wishes }}<br><textarea id="wishes" maxlength="2000" rows="2"
style="width:100%">{{ wishes }}</textarea></label></p>
<h2>{{ L.slots }}</h2>
<div id="slots">
{% for s in slots %}
<button type="button" class="slot" data-start="{{ s.start }}" data-measurer="{{ s.measurer_id }}">
{{ s.when }} · {{ s.measurer }}</button>
{% else %}<div class="muted" id="no-slots">{{ L.no_slots }}</div>{% endfor %}
</div>
<div class="msg" id="msg" role="status"></div>
<div id="offers"></div>
<h2>{{ L.calendar }}</h2>
<div id="cal-bar">
<button type="button" class="secondary" id="view-day">{{ L.day }}</button>
<button type="button" class="secondary" id="view-week">{{ L.week }}</button>
<button type="button" class="secondary" id="prev" title="{{ L.prev }}">&larr;</button>
<button type="button" class="secondary" id="today">{{ L.today }}</button>
<button type="button" class="secondary" id="next" title="{{ L.next }}">&rarr;</button>
<span id="range"></span></div>
<div id="cal"></div>
<script type="application/json" id="cfg">{{ cfg|tojson }}</script>
<script>
(function(){
var cfg=JSON.parse(document.getElementById("cfg").textContent),L=cfg.labels;
var $=function(id){return document.getElementById(id);};
var root="/booking/"+encodeURIComponent(cfg.member),base=root+"/bookings";
var view={mode:"week",from:cfg.today},names={};
(cfg.measurers||[]).forEach(function(m){names[m.id]=m.name;});
function el(tag,text,cls){var e=document.createElement(tag);if(text)e.textContent=text;
 if(cls)e.className=cls;return e;}
function say(text,cls){var m=$("msg");m.textContent=text||"";m.className="msg "+(cls||"");}
function hdr(){return {"Content-Type":"application/json"};}
function answer(r){return r.json().catch(function(){return {};}).then(function(d){
  if(r.ok)return d;if(r.status===401)throw new Error(L.expired);
  if(r.status===409){offers(d.offers||[]);throw new Error((d.problems||[]).join("; "));}
  var e=d.error;throw new Error(typeof e==="string"?e:JSON.stringify(e||r.status));});}
function api(url,body){return B24Page.fetch(cfg,url,{method:"POST",headers:hdr(),
 body:JSON.stringify(body||{})}).then(answer);}
function get(url){return B24Page.fetch(cfg,url,{method:"GET",headers:hdr()}).then(answer);}
// ISO moments come in the portal's zone: their text is the local date and time
function hm(iso){return String(iso).substr(11,5);}
function dmy(iso){var s=String(iso);return s.substr(8,2)+"."+s.substr(5,2)+"."+s.substr(0,4);}
function who(id){return names[id]||("#"+id);}
function slotButton(s,text){var b=el("button",text,"slot");b.type="button";
 b.setAttribute("data-start",s.start);b.setAttribute("data-measurer",s.measurer_id);
 b.onclick=pick;return b;}
function offers(list){var box=$("offers");box.textContent="";if(!list.length)return;
 box.appendChild(el("div",L.offers));
 list.forEach(function(s){box.appendChild(slotButton(s,dmy(s.start)+" "+hm(s.start)+" · "+
  who(s.measurer_id)));});}
function row(t,th,td){var tr=el("tr");tr.appendChild(el("th",th));tr.appendChild(el("td",td||"—"));
 t.appendChild(tr);}
function showBooking(b){var box=$("current");box.textContent="";cfg.booking=b?b.id:null;
 if(!b){box.appendChild(el("div",L.none,"empty")).id="no-booking";
  $("book-form").hidden=false;return;}
 $("book-form").hidden=true;var t=el("table");t.id="booking";
 row(t,L.when,dmy(b.start)+" "+hm(b.start));row(t,L.measurer,who(b.measurer_id));
 row(t,L.address,b.address);row(t,L.contact,b.staff_contact);box.appendChild(t);
 var p=el("p"),c=el("button",L.cancel,"secondary");c.type="button";c.id="cancel";
 c.onclick=cancel;p.appendChild(c);p.appendChild(el("span"," "+L.move_hint,"muted"));
 box.appendChild(p);}
function after(b,text){say(text,"ok");$("offers").textContent="";showBooking(b);refresh();}
function pick(){var start=this.getAttribute("data-start"),
 m=parseInt(this.getAttribute("data-measurer"),10);
 if(cfg.booking&&!confirm(L.sure_move))return;say(L.wait);
 var call=cfg.booking?api(base+"/"+cfg.booking+"/reschedule",{start:start,measurer_id:m})
 :api(base,{lead_id:cfg.lead,measurer_id:m,start:start,
  address:($("address")||{}).value||"",staff_contact:($("contact")||{}).value||"",
  wishes:($("wishes")||{}).value||""});
 var moved=!!cfg.booking;
 call.then(function(d){after(d.booking,moved?L.moved:L.booked);})
 .catch(function(e){say(e.message,"error");refresh();});}
function cancel(){if(!confirm(L.sure))return;
 api(base+"/"+cfg.booking+"/cancel").then(function(){after(null,L.cancelled);})
 .catch(function(e){say(e.message,"error");});}
function shift(day,n){var p=day.split("-"),d=new Date(Date.UTC(+p[0],+p[1]-1,+p[2]+n));
 return d.toISOString().substr(0,10);}
function days(){return view.mode==="week"?7:1;}
function cellNode(c,label){
 if(c.state==="free")return slotButton(c,label);
 var text={busy:L.busy,this_lead:L.this_lead,past:"—"}[c.state]||c.state;
 var s=el("span",text,{busy:"busy",this_lead:"mine",past:"past"}[c.state]||"");
 s.setAttribute("data-state",c.state);s.setAttribute("data-start",c.start);
 s.setAttribute("data-measurer",c.measurer_id);return s;}
function draw(d){var box=$("cal");box.textContent="";(d.measurers||[]).forEach(function(m){
  names[m.id]=m.name;});
 if(!(d.measurers||[]).length){box.appendChild(el("div",L.no_measurers,"muted"));return;}
 var t=el("table"),head=el("tr"),times=[],cols;head.appendChild(el("th",L.time,"time"));
 d.days.forEach(function(day){day.cells.forEach(function(c){var k=hm(c.start)+"–"+hm(c.end);
  if(times.indexOf(k)<0)times.push(k);});});times.sort();
 if(view.mode==="day"){var day=d.days[0];
  cols=d.measurers.map(function(m){head.appendChild(el("th",m.name));
   return function(k){return day.cells.filter(function(c){return c.measurer_id===m.id&&
    hm(c.start)+"–"+hm(c.end)===k;});};});
  if(!day.working){box.appendChild(el("div",L.day_off,"off"));return;}}
 else{cols=d.days.map(function(day){var th=el("th",L.weekdays[new Date(day.date+"T12:00:00Z")
   .getUTCDay()]+" "+dmy(day.date).substr(0,5),day.working?"":"off");
  th.setAttribute("data-date",day.date);head.appendChild(th);
  return function(k){return day.cells.filter(function(c){return hm(c.start)+"–"+hm(c.end)===k;});};});}
 t.appendChild(head);
 times.forEach(function(k){var tr=el("tr");tr.appendChild(el("td",k,"time"));
  cols.forEach(function(cells){var td=el("td");cells(k).forEach(function(c){
   td.appendChild(cellNode(c,view.mode==="day"?k:who(c.measurer_id)));});tr.appendChild(td);});
  t.appendChild(tr);});
 if(!times.length)box.appendChild(el("div",L.day_off,"off"));else box.appendChild(t);
 try{if(window.BX24)BX24.fitWindow();}catch(e){}}
function load(){var to=shift(view.from,days()-1);
 $("range").textContent=dmy(view.from)+(days()>1?" — "+dmy(to):"");
 $("cal").textContent=L.loading;
 $("view-day").className=view.mode==="day"?"on":"secondary";
 $("view-week").className=view.mode==="week"?"on":"secondary";
 return get(root+"/calendar?from="+view.from+"&days="+days()+"&lead_id="+cfg.lead)
 .then(draw).catch(function(e){say(e.message,"error");});}
function quick(){return get(root+"/slots?n="+cfg.quick).then(function(d){var box=$("slots");
 box.textContent="";(d.slots||[]).forEach(function(s){box.appendChild(slotButton(s,
  dmy(s.start)+" "+hm(s.start)+" · "+who(s.measurer_id)));});
 if(!(d.slots||[]).length)box.appendChild(el("div",L.no_slots,"muted"));});}
function refresh(){quick().catch(function(){});return load();}
document.querySelectorAll("#slots .slot").forEach(function(b){b.onclick=pick;});
if($("cancel"))$("cancel").onclick=cancel;
$("view-day").onclick=function(){view.mode="day";load();};
$("view-week").onclick=function(){view.mode="week";load();};
$("prev").onclick=function(){view.from=shift(view.from,-days());load();};
$("next").onclick=function(){view.from=shift(view.from,days());load();};
$("today").onclick=function(){view.from=cfg.today;load();};
load();
})();
</script>
"""


def _labels(ctx: WidgetContext) -> dict[str, str]:
    return {
        "not_ready": t(
            ctx,
            "Лид пока нельзя перевести в «Замер назначен»:",
            "The lead cannot enter «Measurement booked» yet:",
        ),
        "current": t(ctx, "Текущий замер", "Current measurement"),
        "when": t(ctx, "Когда", "When"),
        "measurer": t(ctx, "Замерщик", "Measurer"),
        "address": t(ctx, "Адрес", "Address"),
        "contact": t(ctx, "Контакт на объекте", "Contact on site"),
        "wishes": t(ctx, "Особые пожелания клиента", "The client's special wishes"),
        "cancel": t(ctx, "Отменить замер", "Cancel measurement"),
        "none": t(ctx, "Замер ещё не назначен.", "No measurement booked yet."),
        "slots": t(ctx, "Ближайшее свободное время", "Next free slots"),
        "move_hint": t(
            ctx,
            "Чтобы перенести — выберите другое свободное время.",
            "To move it, pick another free slot.",
        ),
        "calendar": t(ctx, "Календарь замерщиков", "Measurers' calendar"),
        "day": t(ctx, "День", "Day"),
        "week": t(ctx, "Неделя", "Week"),
        "today": t(ctx, "Сегодня", "Today"),
        "prev": t(ctx, "Назад", "Back"),
        "next": t(ctx, "Вперёд", "Forward"),
        "no_slots": t(
            ctx,
            "Свободного времени нет (или не заданы замерщики в настройках).",
            "No free time (or no measurers configured).",
        ),
    }


def _script_labels(ctx: WidgetContext) -> dict:
    return {
        "expired": t(
            ctx, "Сессия истекла — откройте вкладку заново.", "Session expired — reopen the tab."
        ),
        "offers": t(ctx, "Можно выбрать другое время:", "Other free times:"),
        "wait": t(ctx, "Сохраняем…", "Saving…"),
        "booked": t(ctx, "Замер назначен.", "Measurement booked."),
        "moved": t(ctx, "Замер перенесён.", "Measurement moved."),
        "cancelled": t(ctx, "Замер отменён.", "Measurement cancelled."),
        "sure": t(ctx, "Отменить замер?", "Cancel the measurement?"),
        "sure_move": t(ctx, "Перенести замер на это время?", "Move the measurement to this time?"),
        "none": t(ctx, "Замер ещё не назначен.", "No measurement booked yet."),
        "when": t(ctx, "Когда", "When"),
        "measurer": t(ctx, "Замерщик", "Measurer"),
        "address": t(ctx, "Адрес", "Address"),
        "contact": t(ctx, "Контакт на объекте", "Contact on site"),
        "cancel": t(ctx, "Отменить замер", "Cancel measurement"),
        "move_hint": t(
            ctx,
            "Чтобы перенести — выберите другое свободное время.",
            "To move it, pick another free slot.",
        ),
        "no_slots": t(ctx, "Свободного времени нет.", "No free time."),
        "no_measurers": t(
            ctx,
            "Замерщики не заданы в настройках кухонь.",
            "No measurers are set in the kitchens settings.",
        ),
        "time": t(ctx, "Время", "Time"),
        "loading": t(ctx, "Загрузка…", "Loading…"),
        "busy": t(ctx, "занято", "taken"),
        "this_lead": t(ctx, "этот лид", "this lead"),
        "day_off": t(ctx, "Нерабочий день", "Day off"),
        # Date.getUTCDay order: Sunday first
        "weekdays": t(ctx, "Вс Пн Вт Ср Чт Пт Сб", "Sun Mon Tue Wed Thu Fri Sat").split(),
    }


def current_booking(session, member_id: str, lead_id: int):
    """The lead's active booking (the latest when several), or None."""
    q = (
        select(bookings.MeasurementBooking)
        .where(
            bookings.MeasurementBooking.member_id == member_id,
            bookings.MeasurementBooking.lead_id == lead_id,
            bookings.MeasurementBooking.state == bookings.ACTIVE,
        )
        .order_by(bookings.MeasurementBooking.start.desc())
    )
    return session.scalars(q).first()


def _when(moment: datetime, tz) -> str:
    return moment.astimezone(tz).strftime("%d.%m.%Y %H:%M")


@register("measurement")
def render_page(ctx: WidgetContext) -> str:
    lead_id = ctx.record_id
    with ctx.services.session() as session:
        policy = service.Policy.from_settings(effective(session, ctx.member_id, "kitchens"))
        tz = policy.calendar.tz
        row = current_booking(session, ctx.member_id, lead_id)
        booking = None
        if row is not None:
            booking = {
                "id": row.id,
                "when": _when(row.start, tz),
                "measurer": user_name(session, ctx.member_id, row.measurer_id),
                "address": row.address,
                "contact": row.staff_contact,
            }
        now = datetime.now(UTC)
        today = now.astimezone(tz).date()
        measurers = [
            {"id": m, "name": user_name(session, ctx.member_id, m) or f"#{m}"}
            for m in sorted(set(policy.measurers))
        ]
        found = service.free_slots(session, ctx.member_id, policy, now, n=SLOTS)
        slots = [
            {
                "start": s.start.isoformat(),
                "measurer_id": s.measurer_id,
                "when": _when(s.start, tz),
                "measurer": user_name(session, ctx.member_id, s.measurer_id),
            }
            for s in found
        ]
        problems = [] if row is not None else service.lead_problems(session, ctx.member_id, lead_id)
        raw = mirror.get(session, ctx.member_id, "lead", lead_id)
        lead = normalize("lead", raw, naming(session, ctx.member_id)) or {}
        address = str(lead.get("UF_CRM_KT_ADDRESS") or "")
        wishes = str(lead.get("UF_CRM_KT_WISHES") or "")
    cfg = {
        "member": ctx.member_id,
        "today": today.isoformat(),
        "quick": SLOTS,
        "measurers": measurers,
        "lead": lead_id,
        "booking": booking["id"] if booking else None,
        "bearer": naming_bearer(ctx),  # names who books: the audit says so
        "labels": _script_labels(ctx),
    }
    body = render(
        BODY,
        booking=booking,
        slots=slots,
        problems=problems,
        address=address,
        wishes=wishes,
        L=_labels(ctx),
        cfg=cfg,
    )
    return page(ctx, t(ctx, "Замер", "Measurement"), body)
