"""Plan the app-context registrations: robots, event bindings, widgets. Pure.

These exist only for the calling app, so everything found is ours. Robots are compared by
the fingerprint the store kept from the last registration (``bizproc.robot.list`` gives
codes only); a robot the portal lost (app update wipes them) is added again.
"""

from __future__ import annotations

import re

from app.installers.desired import APP_EVENTS, Desired
from app.installers.plan_model import CLEANUP, CONTENT, Plan, Step
from app.store.schema_objects import Known

NO_APP_CONTEXT = "{what} not checked: the portal answers them only in app context (OAuth install)"


def plan_robots(
    plan: Plan, desired: Desired, current, known, base_url: str, specs, robot_user: int = 1
) -> None:
    """Robots are registered with ``AUTH_USER_ID=robot_user`` (the installing admin)."""
    if current is None:
        if desired.robots:
            plan.notes.append(NO_APP_CONTEXT.format(what="robots"))
        return
    present = set(current)
    for code in desired.robots:
        spec = specs.get(code)
        if spec is None:
            plan.notes.append(f"robot {code}: no spec in app.robots yet, not registered")
            continue
        handler = f"{base_url}/robots/{code}"
        wire = spec.wire(handler, robot_user)
        fp = spec.fingerprint(handler, robot_user)
        record = Known("robot", code, code, code, True, {"fingerprint": fp})
        update = ("bizproc.robot.update", {"CODE": code, "FIELDS": _without_code(wire)})
        if code not in present:
            plan.steps.append(
                Step(
                    "robot",
                    "add",
                    code,
                    f"{code} → {handler}",
                    "bizproc.robot.add",
                    wire,
                    CONTENT,
                    record,
                    on_exists=update,
                )
            )
        elif (known.get(("robot", code)) or Known("robot", code)).meta.get("fingerprint") != fp:
            plan.steps.append(
                Step(
                    "robot",
                    "update",
                    code,
                    f"{code} (spec changed)",
                    update[0],
                    update[1],
                    CONTENT,
                    record,
                )
            )
        else:
            plan.unchanged += 1


def _without_code(wire: dict) -> dict:
    return {k: v for k, v in wire.items() if k != "CODE"}


OFFLINE_NOTICE = "ONOFFLINEEVENT"  # may only be bound online (protocol §5.1)


def wanted_bindings(desired: Desired, base_url: str) -> list[tuple[str, str, bool]]:
    """(event, handler, offline) for every binding the playbooks need.

    With any offline binding, ONOFFLINEEVENT is bound online to ``/events`` too: the portal
    sends it when offline rows appear (after our downtime, or events the online delivery
    lost), and the inbox answers it by enqueuing the catch-up at once instead of waiting
    for the clock's next scheduled one."""
    out = []
    for e in desired.events:
        out.append((e.name, f"{base_url}/events", False))
        if e.offline:
            out.append((e.name, "", True))
    if any(e.offline for e in desired.events):
        out.append((OFFLINE_NOTICE, f"{base_url}/events", False))
    out.extend((name, f"{base_url}/app-events", False) for name in APP_EVENTS)
    return out


def plan_events(
    plan: Plan, desired: Desired, current, base_url: str, connector: str | None = None, known=None
) -> None:
    """Bind the events ``desired`` needs. Offline events are bound with the
    ``auth_connector`` key ``connector`` when the portal has the feature (``None``: bound
    without one; app.sync.connector). An offline binding made with another key (or none:
    an install before the key) is re-bound: ``event.unbind`` (it takes no key: it removes
    the event's offline bindings of the app, event-unbind.md), then ``event.bind`` with the
    key. The key a binding has is what ``event.get`` shows (``connector_id``, when the
    portal lists it) or else what was recorded when we bound it."""
    if current is None:
        plan.notes.append(NO_APP_CONTEXT.format(what="event bindings"))
        return
    known = known or {}
    want_key = connector or ""
    have = set()
    have_key: dict[str, str] = {}
    for row in current:
        offline = str(row.get("offline", 0)) in ("1", "true", "True")
        name = str(row.get("event", "")).upper()
        have.add((name, "" if offline else row.get("handler"), offline))
        if offline:
            recorded = (known.get(("event", f"{name}|offline")) or Known("event", "")).meta
            have_key[name] = str(row.get("connector_id", recorded.get("connector")) or "")
    for name, handler, offline in wanted_bindings(desired, base_url):
        code = f"{name}|{'offline' if offline else handler}"
        meta = {"handler": handler, "offline": offline}
        if offline:
            meta["connector"] = want_key
        record = Known("event", code, None, name, True, meta)
        if (name, handler, offline) in have and (not offline or have_key[name] == want_key):
            plan.unchanged += 1
            plan.matches.append(record)
            continue
        params = {"event": name, "event_type": "offline" if offline else "online"}
        if not offline:
            params["handler"] = handler
        elif want_key:
            params["auth_connector"] = want_key
        if (name, handler, offline) in have:  # bound with another key: unbind first
            plan.steps.append(
                Step(
                    "event",
                    "update",
                    code,
                    f"{name} (offline, re-bound with the source key)",
                    "event.unbind",
                    {"event": name, "event_type": "offline"},
                    CONTENT,
                )
            )
        plan.steps.append(
            Step(
                "event",
                "add",
                code,
                f"{name} ({'offline' if offline else handler})",
                "event.bind",
                params,
                CONTENT,
                record,
                on_exists=("", {}),
            )
        )
    plan_moved_events(plan, desired, current, base_url, known)


def moved_from_old_base(handler: str, base_url: str, routes) -> bool:
    """``handler`` is not under ``base_url`` but ends with one of ``routes`` (``/events``,
    ``/widgets/x``) that this plan binds under ``base_url``: an earlier address's binding
    whose replacement exists."""
    if not handler or handler.startswith(f"{base_url}/"):
        return False
    return any(handler.endswith(route) for route in routes)


def recorded_under_old_base(
    kind: str, handler: str, base_url: str, known, moved_to
) -> Known | None:
    """The record of a binding WE made under an earlier ``APP_BASE_URL``, now replaced.

    ``handler`` is stale when (1) it is not under ``base_url``, (2) our store recorded a
    binding of ``kind`` with exactly that handler (we bound it: ``event.get`` and
    ``placement.get`` answer only the calling app's bindings, and the record proves it was
    this deployment's), and (3) ``moved_to`` names the route (``/events``, ``/widgets/x``)
    it ends with, which this plan binds under ``base_url``: its replacement exists, so the
    portal does not deliver to an address the app left, and nothing goes undelivered."""
    if not moved_from_old_base(handler, base_url, moved_to):
        return None
    return next(
        (
            k
            for (k_kind, _), k in (known or {}).items()
            if k_kind == kind and (k.meta or {}).get("handler") == handler
        ),
        None,
    )


def plan_moved_events(plan: Plan, desired: Desired, current, base_url: str, known) -> None:
    """``event.unbind`` (event + handler: only that handler — api-reference/events/
    event-unbind.md) for each online binding we made under an earlier ``APP_BASE_URL``
    whose replacement under the current one this plan keeps or binds. Without it the portal
    went on POSTing every event to the old address too (a dead host, or another
    deployment that would process the same change)."""
    routes: dict[str, set[str]] = {}
    for name, handler, offline in wanted_bindings(desired, base_url):
        if not offline:
            routes.setdefault(name, set()).add(handler[len(base_url) :])
    for row in current or ():
        if str(row.get("offline", 0)) in ("1", "true", "True"):
            continue
        name, handler = str(row.get("event", "")).upper(), str(row.get("handler") or "")
        record = recorded_under_old_base("event", handler, base_url, known, routes.get(name, ()))
        if record is None:
            continue
        plan.steps.append(
            Step(
                "event",
                "delete",
                record.code,
                f"{name} ({handler}, bound under an earlier APP_BASE_URL)",
                "event.unbind",
                {"event": name, "handler": handler},
                CLEANUP,
                record,
            )
        )


# A detail tab shows on every lead / deal: placement.bind takes no OPTIONS for it, so it
# cannot be limited to a pipeline (api-reference/widgets/crm/detail-tab.md, "OPTIONS When
# Registering via placement.bind"); the page answers quietly elsewhere (app.widgets._ownership).
SHARED_TABS = frozenset({"CRM_LEAD_DETAIL_TAB", "CRM_DEAL_DETAIL_TAB"})
SHARED_TAB_NOTE = (
    "tab {code} ({placement}) shows on every card of that type — Bitrix24 cannot limit a "
    "detail tab to a pipeline; on other playbooks' records it says it is not part of their "
    "process"
)


def plan_widgets(
    plan: Plan, desired: Desired, current, base_url: str, etids, lang, known=None, keep=None
) -> None:
    """Bind the widgets ``desired`` wants; unbind our stale ones (:func:`plan_stale_widgets`,
    judged against ``keep``: every widget the installation's whole playbook set and the app
    want — default ``desired.widgets``)."""
    if current is None:
        if desired.widgets:
            plan.notes.append(NO_APP_CONTEXT.format(what="widgets"))
        return
    have = {(row.get("placement"), row.get("handler")) for row in current}
    if len(desired.playbooks) > 1:
        from app.playbooks.app_widgets import APP_WIDGETS

        for w in desired.widgets:
            # the app's own tabs are meant for every card: no note for them
            if w.placement in SHARED_TABS and w not in APP_WIDGETS:
                plan.notes.append(SHARED_TAB_NOTE.format(code=w.code, placement=w.placement))
    for w in desired.widgets:
        handler = f"{base_url}/widgets/{w.code}"
        refs = re.findall(r"\{([a-z0-9_.]+)\}", w.placement)
        placement = _resolved(w.placement, etids)
        code = f"{w.code}|{w.placement}"
        if "{" in placement:
            plan.steps.append(
                Step("placement", "add", code, f"{w.placement} → {handler}", waits_for=refs[0])
            )
            continue
        if (placement, handler) in have:
            plan.unchanged += 1
            plan.matches.append(
                Known("placement", code, None, placement, True, {"handler": handler})
            )
            continue
        params = {
            "PLACEMENT": placement,
            "HANDLER": handler,
            "TITLE": getattr(w.title, lang),
            "LANG_ALL": {"ru": {"TITLE": w.title.ru}, "en": {"TITLE": w.title.en}},
        }
        plan.steps.append(
            Step(
                "placement",
                "add",
                code,
                f"{placement} → {handler}",
                "placement.bind",
                params,
                CONTENT,
                Known("placement", code, None, placement, True, {"handler": handler}),
                on_exists=("", {}),
            )
        )
    plan_stale_widgets(plan, current, base_url, etids, desired.widgets if keep is None else keep,
                       known or {}, bound=desired.widgets)  # fmt: skip


def _resolved(placement: str, etids) -> str:
    """``CRM_DYNAMIC_{metal.object}_DETAIL_TAB`` with the smart process's id, when known."""
    for ref in re.findall(r"\{([a-z0-9_.]+)\}", placement):
        if ref in etids:
            placement = placement.replace(f"{{{ref}}}", str(etids[ref]))
    return placement


def _unbind_moved_widget(plan: Plan, placement, handler, base_url, moved_to) -> None:
    """``placement.unbind`` for our binding under an earlier ``APP_BASE_URL`` that this
    plan's binding under the current one replaces: same placement, same ``/widgets/<code>``
    route. Unlike events, no record is asked for: a placement's record is keyed by widget
    and placement, not handler, so the new binding's record already replaced the old one's
    (and the step carries none, so its success forgets nothing). ``placement.get`` answers
    only this app's bindings (api-reference/widgets/placement-get.md), so the route is
    proof enough that an earlier deployment of this app bound it."""
    if not moved_from_old_base(handler, base_url, moved_to.get(placement, ())):
        return
    plan.steps.append(
        Step(
            "placement",
            "delete",
            f"moved|{placement}|{handler}",
            f"{placement} → {handler} (bound under an earlier APP_BASE_URL)",
            "placement.unbind",
            {"PLACEMENT": placement, "HANDLER": handler},
            CLEANUP,
        )
    )


def plan_stale_widgets(plan: Plan, current, base_url: str, etids, keep, known, bound=None) -> None:
    """``placement.unbind`` (PLACEMENT + HANDLER: without HANDLER it would remove every
    handler of the placement — api-reference/widgets/placement-unbind.md) for each binding
    ``placement.get`` lists whose handler is under OUR ``{base_url}/widgets/`` but that no
    widget in ``keep`` wants any more: a page a playbook or the app dropped (an update), or
    a tab left on a placement it moved from.

    Never touched: handlers elsewhere (another deployment or app; ``placement.get`` answers
    only the calling app's, and the handler must be ours besides), bindings made for one
    user (``userId``: the app binds for everybody), and any binding of a widget whose
    placement still waits for its smart process's id (it cannot be judged yet)."""
    ours = f"{base_url}/widgets/"
    wanted: set[tuple[str, str]] = set()
    undecided: set[str] = set()
    for w in keep:
        placement = _resolved(w.placement, etids)
        if "{" in placement:
            undecided.add(ours + w.code)
        else:
            wanted.add((placement, ours + w.code))
    # what this plan binds under base_url (``bound``: desired.widgets) replaces the same
    # routes under an earlier base; a widget only kept (another part of the installation)
    # is not bound by this plan, so its old binding stays until a plan binds it anew
    moved_to: dict[str, set[str]] = {}
    for w in keep if bound is None else bound:
        placement = _resolved(w.placement, etids)
        if "{" not in placement:
            moved_to.setdefault(placement, set()).add(f"/widgets/{w.code}")
    for row in current:
        placement = str(row.get("placement") or "")
        handler = str(row.get("handler") or "")
        if placement and str(row.get("userId") or 0) == "0":
            _unbind_moved_widget(plan, placement, handler, base_url, moved_to)
        if not placement or not handler.startswith(ours) or str(row.get("userId") or 0) != "0":
            continue
        if (placement, handler) in wanted or handler in undecided:
            continue
        widget = handler[len(ours) :]
        record = next(
            (
                k
                for (kind, _), k in known.items()
                if kind == "placement"
                and k.real_name == placement
                and (k.meta or {}).get("handler") == handler
            ),
            Known(
                "placement", f"{widget}|{placement}", None, placement, True, {"handler": handler}
            ),
        )
        plan.steps.append(
            Step(
                "placement",
                "delete",
                record.code,
                f"{placement} → {handler} (no installed playbook or app page wants it)",
                "placement.unbind",
                {"PLACEMENT": placement, "HANDLER": handler},
                CLEANUP,
                record,
            )
        )
