"""Entry points used by the install job and the CLI.

``install_playbooks(services, member_id, names, progress=...)`` plans and applies the
playbooks' schema and returns a summary; it raises (after recording what succeeded) when
writes failed, so the next run continues.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from app.installers.apply import ApplyReport, apply
from app.installers.current import read
from app.installers.desired import build
from app.installers.plan import plan
from app.installers.plan_model import Plan
from app.installers.uninstall import UninstallReport, remove_owned
from app.robots.registry import all_specs
from app.store import schema_objects
from app.sync import connector

log = logging.getLogger(__name__)


def base_url(services) -> str:
    return str(services.settings.app_base_url).rstrip("/")


def _progress_adapter(progress: Callable | None):
    """Accept ``progress(step, total, text)`` and one-argument ``progress(text)`` callbacks."""
    if progress is None:
        return None
    try:
        arity = len(inspect.signature(progress).parameters)
    except (TypeError, ValueError):
        arity = 3
    if arity >= 3:
        return progress
    return lambda step, total, text: progress(f"[{step}/{total}] {text}")


def robot_user(session, member_id: str) -> int:
    """The user robots run as (``AUTH_USER_ID``): the installing admin, else user 1."""
    from app.store import installations

    row = installations.get(session, member_id)
    value = str(getattr(row, "user_id", "") or "")
    return int(value) if value.isdigit() else 1


def stage_names_from(session, member_id: str, names) -> str | None:
    """The playbook whose names the shared lead stages carry: the first of ``names`` whose
    setting ``shared_lead_stage_names`` is on (None: the first declaring them, as built)."""
    from app.playbooks.settings import effective

    for name in names:
        try:
            if effective(session, member_id, name).get("shared_lead_stage_names"):
                return name
        except (KeyError, ValueError):
            continue
    return None


def _desired(services, member_id: str, names):
    from app.installers.language import installed_language

    with services.session() as session:
        return build(
            names,
            lang=installed_language(session, member_id),
            stage_names_from=stage_names_from(session, member_id, names),
        )


def keep_widgets(session, member_id: str, names) -> tuple:
    """Every widget the installation wants: its own playbooks' (``b24 playbooks`` keeps the
    set) plus ``names`` being applied, and the app's pages. A binding of ours outside it is
    stale and the plan unbinds it; applying one playbook of several never unbinds the
    others' tabs."""
    from app.installers.playbook_set import installed
    from app.store.installations import InstallationNotFound

    try:
        own = installed(session, member_id)
    except InstallationNotFound:  # planned before the installation is stored (tests, CLI)
        own = []
    return build(list(dict.fromkeys([*own, *names]))).widgets


def plan_playbooks(services, member_id: str, names, client=None) -> Plan:
    """The plan for ``names`` on ``member_id`` (reads only)."""
    desired = _desired(services, member_id, names)
    client = client or services.portal(member_id)
    with services.session() as session:
        known = schema_objects.load(session, member_id)
        user = robot_user(session, member_id)
        keep = keep_widgets(session, member_id, desired.playbooks)
    snap = read(client, desired, known)
    return plan(desired, snap, known, base_url(services), all_specs(), user, keep)


def summarize(names, report: ApplyReport, to_fill=()) -> dict[str, Any]:
    return {
        "to_fill": list(to_fill),
        "playbooks": list(names),
        "written": dict(report.written),
        "requests": report.requests,
        "rounds": report.rounds,
        "adopted": list(report.adopted),
        "conflicts": [f"{c.what}: {c.problem}. Fix: {c.fix}" for c in report.conflicts],
        "notes": list(report.notes),
    }


def install_playbooks(services, member_id: str, playbook_names, progress=None, client=None):
    """Plan + apply ``playbook_names`` on ``member_id``; a summary dict (see summarize)."""
    desired = _desired(services, member_id, playbook_names)
    client = client or services.portal(member_id)
    with services.session() as session:
        keyed_before = connector.active(session, member_id)
        try:
            report = apply(
                session,
                client,
                member_id,
                desired,
                base_url(services),
                all_specs(),
                progress=_progress_adapter(progress),
                robot_user=robot_user(session, member_id),
                keep_widgets=keep_widgets(session, member_id, desired.playbooks),
            )
        finally:
            _after_connector_change(services, session, member_id, keyed_before)
        to_fill = _to_fill(session, member_id, desired.playbooks)
    return summarize(desired.playbooks, report, to_fill)


def _after_connector_change(services, session, member_id: str, keyed_before) -> None:
    """Offline events just (re-)bound with the source key: rows queued while they were bound
    without it sit in the queue "without a source", which a get with the key never returns
    (event-offline-list.md). Forget that the sourceless queue was once found empty, so the
    next catch-up drains it again (app.sync.offline._drain_sourceless). Also after a partly
    failed apply: whatever was re-bound before the failure counts."""
    from app.sync import offline

    session.expire_all()
    keyed_now = connector.active(session, member_id)
    if keyed_now and keyed_now != keyed_before:
        import redis

        try:
            services.redis.delete(offline.legacy_empty_key(member_id))
        except redis.RedisError:  # the install itself must not fail on it
            log.warning(
                "Redis did not answer: rows queued before the re-bind are not drained until "
                "%s is deleted",
                offline.legacy_empty_key(member_id),
            )


def _to_fill(session, member_id: str, playbooks) -> list[str]:
    """The settings a fresh install cannot guess and this portal has not filled yet."""
    from app.playbooks.settings import effective
    from app.playbooks.setup import what_to_fill

    out: list[str] = []
    for name in playbooks:
        out += what_to_fill(name, effective(session, member_id, name))
    return out


def uninstall_playbooks(
    services, member_id: str, client=None, *, purge: bool = False
) -> UninstallReport:
    """Remove what the app created (admin asked to clean up): its wiring, and with
    ``purge`` its fields, stages, pipelines and smart processes (``app.installers.uninstall``)."""
    client = client or services.portal(member_id)
    with services.session() as session:
        return remove_owned(session, client, member_id, purge=purge)


def purge_preview(services, member_id: str, client=None) -> list[tuple[str, str, int]]:
    """The dry run of ``--purge``: each app-created field and how many records hold a value."""
    from app.installers.uninstall import count_values

    client = client or services.portal(member_id)
    with services.session() as session:
        return count_values(session, client, member_id)
