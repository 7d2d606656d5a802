"""Run one robot call exactly once and always answer it (the body of ``run_robot``).

    outcome = execute(ctx, call, retry_in=5.0)

1. The run row (``app.store.robot_runs``) is opened; a call already answered (a replayed
   POST, a duplicate job) stops here: nothing is redone and nothing is re-sent.
2. Unless an answer is stored already: prove the event token with the portal
   (``bizproc.activity.log``; a refused token ends the run, nothing written, nothing sent),
   parse the document and the properties, ``load``,
   check that the record belongs to the robot's playbook (:func:`foreign_record`),
   ``run`` (pure), refuse writes to fields the robot does not declare, apply the actions (keys derived from the event token, so effects are
   single even if this step is repeated), and store the answer.
3. Send the stored answer with ``bizproc.event.send`` (skipped when the portal does not wait,
   ``use_subscription=N``).

Errors: bad input, a missing record, a record of another playbook, a refused write or a
robot bug become an error answer.
A retryable portal failure (rate limit, 5xx, timeout) is re-raised while a retry can still
answer before the portal's ``timeout_duration`` runs out (``retry_in`` = seconds until RQ's
next attempt, None when none is left); after that the error itself is answered. Answering
first and retrying afterwards would not work: the first ``event.send`` closes the activity.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.portal.errors import PortalError
from app.robots import answer as answers
from app.robots.call import RobotCall
from app.robots.catalog import robot_module
from app.robots.contract import LoadEnv, RobotInput, RobotInputError, RobotResult
from app.robots.documents import DocumentError, Loaded, load_document, parse_document
from app.robots.properties import PropertyError, parse_properties
from app.rules.actions import UpdateFields
from app.rules.apply import apply_with
from app.store import robot_runs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    state: str  # the run's state afterwards (robot_runs.*)
    replay: bool = False  # the call had been answered before: nothing was done
    error: str = ""
    return_values: dict[str, Any] | None = None


def execute(ctx: Any, call: RobotCall, *, retry_in: float | None = None) -> Outcome:
    """Run ``call`` on the portal of ``ctx`` (an ``app.sync.context.PortalContext``).

    Each store step is its own short session: no transaction stays open while the portal
    is called."""
    with ctx.session_factory() as session:
        row = robot_runs.open_run(
            session,
            call.member_id,
            call.event_token,
            code=call.code,
            document=str(call.document_id[-1] if call.document_id else "-"),
            workflow_id=call.workflow_id,
            wait_answer=call.wait_answer,
            deadline_at=call.deadline,
        )
        state, stored = (
            row.state,
            answers.Answer(row.return_values or {}, row.log_message or "", row.error or ""),
        )
    if state in robot_runs.FINAL:
        return Outcome(state, replay=True, error=stored.error)
    if state == robot_runs.DECIDED:
        answer = stored
    else:
        refused = _verify_token(ctx, call, retry_in)
        if refused:
            with ctx.session_factory() as session:
                row = robot_runs.get(session, call.member_id, call.event_token)
                robot_runs.finish(session, row, robot_runs.FAILED, refused)
            return Outcome(robot_runs.FAILED, error=refused)
        answer = _decide_or_raise(ctx, call, retry_in)
        with ctx.session_factory() as session:
            row = robot_runs.get(session, call.member_id, call.event_token)
            robot_runs.decide(
                session, row, dict(answer.return_values), answer.log_message, answer.error
            )
    state, send_error = _deliver(ctx, call, answer, retry_in)
    with ctx.session_factory() as session:
        row = robot_runs.get(session, call.member_id, call.event_token)
        robot_runs.finish(session, row, state, send_error)
    return Outcome(
        state, error=answer.error or send_error or "", return_values=dict(answer.return_values)
    )


VERIFY_LOG = "Запрос получен приложением (request received)"


def _verify_token(ctx: Any, call: RobotCall, retry_in: float | None) -> str:
    """Prove the call's ``event_token`` with the portal before anything is written; → the
    refusal text, or "" when proved (or when nothing can be proved, see below).

    ``bizproc.activity.log`` takes the event token and adds a log line WITHOUT closing the
    activity (api-reference/bizproc/bizproc-activity/bizproc-activity-log.md; the portal
    answers a forged token with an error, "the method may also return errors from the
    business process"). Logging "is possible if the action is subscribed with
    USE_SUBSCRIPTION=Y": a ``use_subscription=N`` call cannot be proved by any documented
    method, and then only the fields the robot declares (``SPEC.writes``) can be written —
    the gap SECURITY.md records. A retryable failure is raised while a retry can still
    answer in time."""
    if not call.wait_answer:
        return ""
    try:
        ctx.client.call(
            "bizproc.activity.log",
            {"event_token": call.event_token, "log_message": VERIFY_LOG},
            priority="robots",
        )
    except PortalError as exc:
        if exc.retryable and _time_left(ctx, call, retry_in):
            raise
        log.warning(
            "robot %s on %s: event token not proved (%s); nothing done",
            call.code,
            call.member_id,
            exc.code,
        )
        return f"event_token refused by the portal ({exc.code})"
    return ""


def _time_left(ctx: Any, call: RobotCall, retry_in: float | None) -> bool:
    """Would a retry in ``retry_in`` seconds still be answered in time?"""
    if retry_in is None:
        return False
    deadline = call.deadline
    return deadline is None or ctx.now() + timedelta(seconds=retry_in) < deadline


def _decide_or_raise(ctx: Any, call: RobotCall, retry_in: float | None) -> answers.Answer:
    module = robot_module(call.code)
    spec = getattr(module, "SPEC", None)
    try:
        return _decide(ctx, call, module)
    except (DocumentError, PropertyError, RobotInputError) as exc:
        return answers.failure(spec, str(exc))
    except PortalError as exc:
        if exc.retryable and _time_left(ctx, call, retry_in):
            raise
        log.warning("robot %s on %s: portal error %s", call.code, call.member_id, exc.code)
        return answers.failure(spec, f"портал ответил ошибкой: {exc} (portal error)")
    except Exception as exc:  # a robot bug: answer it (never a silent timeout), log the trace
        log.exception("robot %s crashed on %s", call.code, call.member_id)
        return answers.failure(spec, f"внутренняя ошибка робота: {type(exc).__name__}")


def _decide(ctx: Any, call: RobotCall, module: Any) -> answers.Answer:
    if module is None:
        raise RobotInputError(f"робот «{call.code}» не найден в приложении (unknown robot)")
    spec = module.SPEC
    document = parse_document(call.document_id)
    entity = document.entity(ctx.naming)
    props = parse_properties(spec, call.properties)
    env = LoadEnv(
        ctx.client, ctx.naming, document, entity, props, ctx.settings, tuple(ctx.playbooks)
    )
    loader = getattr(module, "load", None)
    loaded: Loaded = (
        loader(env)
        if callable(loader)
        else load_document(ctx.client, ctx.naming, document, getattr(module, "NEEDS", ()))
    )
    inp = RobotInput(
        code=spec.code,
        document=document,
        entity=entity,
        props=props,
        record=loaded.record,
        related=loaded.related,
        extra=loaded.extra,
        settings=ctx.settings,
        playbooks=tuple(ctx.playbooks),
        naming=ctx.naming,
        now=ctx.now(),
        user_id=call.user_id,
    )
    refusal = foreign_record(ctx, spec.code, entity, document, loaded.record)
    if refusal:
        raise RobotInputError(refusal)
    result: RobotResult = module.run(inp)
    undeclared = sorted(
        {
            str(code)
            for action in result.actions
            if isinstance(action, UpdateFields)
            for code in action.fields
            if not spec.may_write(code)
        }
    )
    if undeclared:
        # a robot writes only what it declares (SPEC.writes), whatever its properties name
        raise RobotInputError(
            "робот не меняет поля " + ", ".join(undeclared) + " (field not writable by this robot)"
        )
    if result.actions:
        report = apply_with(
            ctx.session_factory,
            ctx.client,
            ctx.naming,
            call.member_id,
            list(result.actions),
            cause=f"robot:{robot_runs.token_digest(call.event_token)[:40]}",
            rule=f"robot.{spec.code}",
            record=(entity, document.record_id),
        )
        problems = [o.error for o in report.failed if o.error]
        if problems:
            return answers.failure(spec, "портал не принял изменения: " + "; ".join(problems))
    return answers.success(spec, result.returns, result.log)


def robot_playbooks(code: str) -> frozenset[str]:
    """The catalogue's playbooks that declare robot ``code`` (empty: a robot of no playbook,
    e.g. one a test registers, which ownership does not govern)."""
    from app.playbooks import NAMES, load

    return frozenset(name for name in NAMES if code in load(name).robots)


def foreign_record(
    ctx: Any, code: str, entity: str, document: Any, record: dict[str, Any] | None
) -> str:
    """ "" when robot ``code`` may act on the document's record, else the refusal text.

    The same ownership rule as the rules engine (``app.rules.ownership``): a robot of
    playbook X placed (or left) on a pipeline/lead of installed playbook Y must not write
    there. A
    robot that loads no record of its own (``calc_area``) still writes to it, so the record
    is read here."""
    from app.rules.ownership import NOBODY, SHARED, SHARED_ENTITIES, record_owner

    mine = robot_playbooks(code)
    if not mine or entity in SHARED_ENTITIES:
        return ""
    if record is None:
        record = load_document(ctx.client, ctx.naming, document).record
    owner = record_owner(
        entity, record, installed=ctx.playbooks, naming=ctx.naming, settings=ctx.settings
    )
    if owner is SHARED or owner == NOBODY or owner in mine:
        # NOBODY: a pipeline no installed playbook runs (the portal's general one, a smart
        # process of its own). No other playbook's process is there, and an admin placed
        # the robot there on purpose — unlike a rule, a robot never acts uninvited.
        return ""
    return (
        f"запись {document.wire} относится к процессу плейбука «{owner}», а робот «{code}» — "
        f"к {', '.join(sorted(mine))}; ничего не изменено "
        f"(record belongs to another playbook's process; nothing written)"
    )


def _deliver(
    ctx: Any, call: RobotCall, answer: answers.Answer, retry_in: float | None
) -> tuple[str, str | None]:
    """Send the answer; → (final state, send error). Raises a retryable error while a retry
    can still be in time."""
    if not call.wait_answer:
        return robot_runs.ANSWERED, None
    try:
        answers.send(ctx.client, call.event_token, answer)
    except PortalError as exc:
        if exc.retryable and _time_left(ctx, call, retry_in):
            raise
        log.warning("robot %s answer refused on %s: %s", call.code, call.member_id, exc.code)
        return robot_runs.FAILED, f"bizproc.event.send: {exc}"
    return robot_runs.ANSWERED, None
