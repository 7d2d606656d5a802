"""«Замер» tab on a kitchens lead: the lead's booking, free slots, book/move/cancel.

Server side (store only): the lead's active booking, the next free slots of the configured
measurers (``app.booking.service.free_slots``), and what would keep the lead out of
«Замер назначен» (``lead_problems``). The page's small script calls the existing API of
``app.handlers.booking`` with the signed bearer; a 409 (slot taken, outside working hours,
lead not ready) is shown as its problems plus clickable offered slots.
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

SLOTS = 8

BODY = """
{% if problems %}<div class="error" id="lead-problems">{{ L.not_ready }}
<ul>{% for p in problems %}<li>{{ p }}</li>{% endfor %}</ul></div>{% endif %}
<h2>{{ L.current }}</h2>
{% if booking %}
<table id="booking">
<tr><th>{{ L.when }}</th><td>{{ booking.when }}</td></tr>
<tr><th>{{ L.measurer }}</th><td>{{ booking.measurer }}</td></tr>
<tr><th>{{ L.address }}</th><td>{{ booking.address or "—" }}</td></tr>
<tr><th>{{ L.contact }}</th><td>{{ booking.contact or "—" }}</td></tr>
</table>
<p><button id="cancel" type="button" class="secondary">{{ L.cancel }}</button></p>
{% else %}
<div class="empty" id="no-booking">{{ L.none }}</div>
{% endif %}
<h2>{{ L.slots }}</h2>
{% if not booking %}<p>
<label>{{ L.address }} <input id="address" maxlength="500" value="{{ address }}"></label>
<label>{{ L.contact }} <input id="contact" maxlength="200"></label></p>{% endif %}
<div id="slots">
{% for s in slots %}
<button type="button" class="slot" data-start="{{ s.start }}" data-measurer="{{ s.measurer_id }}">
{{ s.when }} · {{ s.measurer }}</button>
{% else %}<div class="muted" id="no-slots">{{ L.no_slots }}</div>{% endfor %}
</div>
<div class="msg" id="msg" role="status"></div>
<div id="offers"></div>
<script type="application/json" id="cfg">{{ cfg|tojson }}</script>
<script>
(function(){
var cfg=JSON.parse(document.getElementById("cfg").textContent),L=cfg.labels;
var $=function(id){return document.getElementById(id);};
var base="/booking/"+encodeURIComponent(cfg.member)+"/bookings";
function say(text,cls){var m=$("msg");m.textContent=text||"";m.className="msg "+(cls||"");}
function api(url,body){return fetch(url,{method:"POST",headers:{"Authorization":"Bearer "+
 cfg.bearer,"Content-Type":"application/json"},body:JSON.stringify(body||{})})
 .then(function(r){return r.json().catch(function(){return {};}).then(function(d){
  if(r.ok)return d;if(r.status===401)throw new Error(L.expired);
  if(r.status===409){offers(d.offers||[]);throw new Error((d.problems||[]).join("; "));}
  var e=d.error;throw new Error(typeof e==="string"?e:JSON.stringify(e||r.status));});});}
function offers(list){var box=$("offers");box.textContent="";if(!list.length)return;
 var p=document.createElement("div");p.textContent=L.offers;box.appendChild(p);
 list.forEach(function(s){var b=document.createElement("button");b.type="button";
  b.className="slot";b.setAttribute("data-start",s.start);
  b.setAttribute("data-measurer",s.measurer_id);
  b.textContent=new Date(s.start).toLocaleString()+" · #"+s.measurer_id;
  b.onclick=pick;box.appendChild(b);});}
function done(text){say(text,"ok");setTimeout(function(){location.reload();},1200);}
function pick(){var start=this.getAttribute("data-start"),
 who=parseInt(this.getAttribute("data-measurer"),10);say(L.wait);
 var call=cfg.booking?api(base+"/"+cfg.booking+"/reschedule",{start:start,measurer_id:who})
 :api(base,{lead_id:cfg.lead,measurer_id:who,start:start,
  address:($("address")||{}).value||"",staff_contact:($("contact")||{}).value||""});
 call.then(function(){done(cfg.booking?L.moved:L.booked);})
 .catch(function(e){say(e.message,"error");});}
document.querySelectorAll("#slots .slot").forEach(function(b){b.onclick=pick;});
if($("cancel"))$("cancel").onclick=function(){if(!confirm(L.sure))return;
 api(base+"/"+cfg.booking+"/cancel").then(function(){done(L.cancelled);})
 .catch(function(e){say(e.message,"error");});};
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
        "cancel": t(ctx, "Отменить замер", "Cancel measurement"),
        "none": t(ctx, "Замер ещё не назначен.", "No measurement booked yet."),
        "slots": t(ctx, "Свободное время", "Free slots"),
        "no_slots": t(
            ctx,
            "Свободного времени нет (или не заданы замерщики в настройках).",
            "No free time (or no measurers configured).",
        ),
    }


def _script_labels(ctx: WidgetContext) -> dict[str, str]:
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
        found = service.free_slots(session, ctx.member_id, policy, datetime.now(UTC), n=SLOTS)
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
    cfg = {
        "member": ctx.member_id,
        "lead": lead_id,
        "booking": booking["id"] if booking else None,
        "bearer": ctx.bearer,
        "labels": _script_labels(ctx),
    }
    body = render(
        BODY,
        booking=booking,
        slots=slots,
        problems=problems,
        address=address,
        L=_labels(ctx),
        cfg=cfg,
    )
    return page(ctx, t(ctx, "Замер", "Measurement"), body)
