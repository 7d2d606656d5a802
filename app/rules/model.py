"""The rule engine's vocabulary: changes, triggers, rules and what a rule sees.

A :class:`Change` is one thing that happened to one record (found by diffing the portal's
current record with the mirror, or produced by a timer / robot call). A :class:`Rule` says
which changes it cares about (its :class:`Trigger`) and turns a :class:`RuleContext` into a
list of actions (``app.rules.actions``). ``decide`` must be pure: no I/O, no clock reads
(use ``ctx.now``), no randomness — a replay must return the same actions in the same order.

Snapshots (``Change.before/after``, ``RuleContext.record``) are dicts keyed by stable codes
where the SchemaMap knows the field (``"UF_CRM_OBJ_WIDTH"``) and by the portal's raw
camelCase name otherwise (``"title"``, ``"assignedById"``, ``"stageId"``); the stage value
is a stable stage code where mapped (``"metal.lead.data_complete"``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from app.rules.actions import Action

CREATED = "created"
STAGE_ENTERED = "stage_entered"
STAGE_LEFT = "stage_left"
FIELD_CHANGED = "field_changed"
RESPONSIBLE_CHANGED = "responsible_changed"
DELETED = "deleted"
TIMER_FIRED = "timer_fired"
ROBOT_CALLED = "robot_called"
TASK_COMPLETED = "task_completed"  # a task the app created was closed (detail name = its tag)
CHANGE_KINDS = frozenset(
    {
        TASK_COMPLETED,
        CREATED,
        STAGE_ENTERED,
        STAGE_LEFT,
        FIELD_CHANGED,
        RESPONSIBLE_CHANGED,
        DELETED,
        TIMER_FIRED,
        ROBOT_CALLED,
    }
)
UPDATE_KINDS = frozenset({STAGE_ENTERED, STAGE_LEFT, FIELD_CHANGED, RESPONSIBLE_CHANGED})

STAGE_FIELD = "stageId"
RESPONSIBLE_FIELD = "assignedById"

# Bitrix24 tasks (``app.sync.tasks``): the entity name, the snapshot key that holds what the
# playbook called a task it created (``CreateTask.tag``; never sent to the portal), and the
# status of a completed task.
TASK_ENTITY = "task"
TASK_TAG = "#tag"
TASK_DONE = "5"


@dataclass(frozen=True)
class Change:
    """One change of one record.

    ``cause`` identifies *this* change independently of when or how often it is processed
    (e.g. ``"stage:metal.lead.new>metal.lead.data_complete@2026-11-22T10:00:00+03:00"``);
    together with the rule name and the action's slot it forms the action's idempotency key.
    For ``timer_fired`` it is the timer id, for ``robot_called`` the event token.
    """

    member_id: str
    entity: str
    record_id: int
    kind: str
    cause: str
    stage_from: str | None = None
    stage_to: str | None = None
    fields_changed: frozenset[str] = frozenset()
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)  # timer kind/payload, robot code…
    # Every stable code naming the same real stage (playbooks installed together may share
    # one stage, e.g. metal's and kitchens' "new"); stage_from/stage_to hold the canonical one.
    stage_from_codes: frozenset[str] = frozenset()
    stage_to_codes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.kind not in CHANGE_KINDS:
            raise ValueError(f"unknown change kind {self.kind!r}")


@dataclass(frozen=True)
class Trigger:
    """Which changes a rule reacts to. Build with the ``on_*`` functions below."""

    kinds: frozenset[str]
    stages: frozenset[str] = frozenset()  # for stage_entered / stage_left; empty = any
    fields: frozenset[str] = frozenset()  # for field_changed; empty = any
    name: str = ""  # timer kind / robot code / task tag for timer_fired / robot_called /
    # task_completed; "" = any
    on_new_records: bool = True  # False: ignore the stage_entered that comes with a creation

    def matches(self, change: Change) -> bool:
        if change.kind not in self.kinds:
            return False
        if not self.on_new_records and change.before is None:
            return False
        if change.kind == STAGE_ENTERED and self.stages:
            return bool(self.stages & ({change.stage_to} | change.stage_to_codes))
        if change.kind == STAGE_LEFT and self.stages:
            return bool(self.stages & ({change.stage_from} | change.stage_from_codes))
        if change.kind == FIELD_CHANGED and self.fields:
            return bool(self.fields & change.fields_changed)
        if change.kind in (TIMER_FIRED, ROBOT_CALLED, TASK_COMPLETED) and self.name:
            return change.detail.get("name") == self.name
        return True


def on_created() -> Trigger:
    return Trigger(frozenset({CREATED}))


def on_stage_entered(*stages: str) -> Trigger:
    return Trigger(frozenset({STAGE_ENTERED}), stages=frozenset(stages))


def on_stage_left(*stages: str) -> Trigger:
    return Trigger(frozenset({STAGE_LEFT}), stages=frozenset(stages))


def on_field_changed(*fields: str) -> Trigger:
    return Trigger(frozenset({FIELD_CHANGED}), fields=frozenset(fields))


def on_responsible_changed() -> Trigger:
    return Trigger(frozenset({RESPONSIBLE_CHANGED}))


def on_deleted() -> Trigger:
    return Trigger(frozenset({DELETED}))


def on_any_update() -> Trigger:
    """Any stage/field/responsible change of an existing record (not created/deleted)."""
    return Trigger(UPDATE_KINDS, on_new_records=False)


def on_timer(kind: str = "") -> Trigger:
    return Trigger(frozenset({TIMER_FIRED}), name=kind)


def on_robot(code: str = "") -> Trigger:
    return Trigger(frozenset({ROBOT_CALLED}), name=code)


def on_task_completed(tag: str = "") -> Trigger:
    """A task the app created with ``CreateTask(tag=tag)`` was completed (rules on entity
    ``"task"``; the record is the task, ``ctx.related["task.bound"]`` its CRM record)."""
    return Trigger(frozenset({TASK_COMPLETED}), name=tag)


@dataclass(frozen=True)
class RuleContext:
    """Everything a rule may look at. ``record`` is the current snapshot (None after delete);
    ``related`` holds related snapshots by name (``"company"``, ``"contacts"``, …) as the
    rule's ``needs`` asked; ``settings`` are the playbook's settings for this portal;
    ``schema`` is the portal's SchemaMap (read-only lookups); ``now`` is an aware UTC time;
    ``owner`` is the installed playbook the record belongs to as the engine resolved it
    (``app.rules.ownership``; None = shared, e.g. a contact, or not resolved)."""

    change: Change
    record: Mapping[str, Any] | None
    related: Mapping[str, Any]
    settings: Mapping[str, Any]
    schema: Any
    now: datetime
    owner: str | None = None


Decide = Callable[[RuleContext], "list[Action]"]


@dataclass(frozen=True)
class Rule:
    """A playbook rule: ``name`` is unique within its playbook and must never be renamed
    once deployed (it is part of every idempotency key the rule's actions claim).

    ``needs`` names related records to load (in the same batch as the record) before
    ``decide`` runs: ``"company"``, ``"contacts"``, ``"parent:<entity>"``, and ``"owner"``
    for activities.

    ``takes_unowned`` marks an intake rule: it may also act on a record that belongs to no
    installed playbook (a deal in the portal's general pipeline) in order to bring it into
    its own playbook's pipeline — the eshop order intake. Its ``decide`` must act only on
    records it takes over."""

    name: str
    entity: str
    trigger: Trigger
    decide: Decide
    needs: tuple[str, ...] = ()
    playbook: str = ""
    takes_unowned: bool = False

    def qualified_name(self) -> str:
        return f"{self.playbook}.{self.name}" if self.playbook else self.name

    def applies_to(self, change: Change) -> bool:
        return change.entity == self.entity and self.trigger.matches(change)
