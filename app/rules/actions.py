"""Actions: the plain values a rule returns. Applying them is ``app.rules.apply``'s job.

Every action is a frozen dataclass of plain values (str, int, datetime, tuples, dicts of
plain values — treat the dicts as read-only). Field names in ``fields`` are *stable codes*
(``"UF_CRM_OBJ_WIDTH"``, ``"title"``, ``"assignedById"``); stage values are stable stage
codes (``"metal.lead.data_complete"``); entities are ``"lead" | "deal" | "contact" |
"company"`` or a smart-process stable code (``"metal.object"``). The apply step translates
them to the portal's real names through the installer's SchemaMap.

Idempotency: each action carries an optional ``key``. The effective key that
``apply_actions`` claims is ``rule + record + change cause + (key or "<Kind>#<position>")``,
so replaying the same change yields the same keys and nothing is done twice. Set ``key``
yourself only when the position in the returned list is not stable (e.g. a loop over a
set); never put ``now`` or anything else that differs between replays into it.

A record created earlier in the same list can be referenced with :class:`Ref`, e.g.
``CreateRecord("metal.object", {...}, ref="obj")`` then ``LinkRecords(("lead", 5),
("metal.object", Ref("obj")))`` — apply turns that into ``$result[...]`` chaining inside
the one batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Ref:
    """The id of a record created by a :class:`CreateRecord` with ``ref=name`` in the same list."""

    name: str


RecordId = int | Ref
RecordRef = tuple[str, RecordId]
"""``(entity, id)`` — e.g. ``("deal", 7405)`` or ``("metal.object", Ref("obj"))``."""


@dataclass(frozen=True)
class Action:
    """Base of every action; ``key`` is the optional rule-chosen idempotency discriminator."""

    @property
    def action_type(self) -> str:
        return type(self).__name__

    def slot(self, position: int) -> str:
        """The per-rule discriminator used in the effective idempotency key."""
        return getattr(self, "key", "") or f"{self.action_type}#{position}"


@dataclass(frozen=True)
class UpdateFields(Action):
    entity: str
    record_id: RecordId
    fields: dict[str, Any]
    key: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class MoveStage(Action):
    entity: str
    record_id: RecordId
    stage: str  # stable stage code
    key: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class CreateRecord(Action):
    """Create a record; optionally link it from an existing one.

    ``link_from=("lead", 5)`` with ``link_field="UF_CRM_LEAD_OBJECT"`` writes the new id into
    that field of the lead; without ``link_field`` the parent relation is used (the new
    record gets ``parentId{ETID of lead}`` = 5).

    ``run_rules``: the new record's ADD event runs the rules as for a record a person
    created (it is not written to the mirror nor marked as ours), so it gets what every
    record created in its pipeline gets — used where the app creates a record *for* a
    process (an open-line lead's order) rather than as part of one rule's own work."""

    entity: str
    fields: dict[str, Any]
    link_from: RecordRef | None = None
    link_field: str | None = None
    ref: str | None = None
    key: str = field(default="", kw_only=True)
    run_rules: bool = field(default=False, kw_only=True)


@dataclass(frozen=True)
class LinkRecords(Action):
    """Link ``child`` to ``parent``: via the ``via`` field of the child when given (a
    CRM-binding UF or ``companyId``/``contactIds``), else the smart-process parent relation
    (``parentId{ETID of parent}`` on the child)."""

    child: RecordRef
    parent: RecordRef
    via: str | None = None
    key: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class DeleteRecord(Action):
    entity: str
    record_id: RecordId
    key: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class Notify(Action):
    """A Bitrix24 system notification (``im.notify.system.add``) to each user."""

    user_ids: tuple[int, ...]
    message: str
    key: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class CreateTask(Action):
    """A Bitrix24 task (``tasks.task.add`` + checklist items), bound to ``bind_to``.

    ``tag`` names the task for the app (e.g. ``"kitchens.measurer"``): it is kept with the
    task's mirrored snapshot, so a rule triggered by the task's completion
    (``on_task_completed(tag)``) knows which step of a plan was closed. ``once``, when set,
    replaces the whole idempotency key (member + ``once``): two rules reacting to the same
    fact in different ways (a stage move, the closing of a task) then create one task, not
    two — e.g. ``once="kitchens.followup:lead:17"``."""

    title: str
    responsible_id: int
    deadline: datetime | None = None
    description: str = ""
    checklist: tuple[str, ...] = ()
    bind_to: RecordRef | None = None
    auditors: tuple[int, ...] = ()
    priority: int = 1  # 0 low, 1 medium, 2 high
    key: str = field(default="", kw_only=True)
    tag: str = field(default="", kw_only=True)
    once: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class UpdateTask(Action):
    """Change a task the app created (``tasks.task.update``): move its deadline, hand it to
    someone else, or set it aside (``defer``: status «Отложена» — not completed, so no
    ``on_task_completed`` rule takes it for done). ``None`` leaves a field as it is.
    ``renew``: bring a completed task back (``tasks.task.renew``, sent before the update)."""

    task_id: int
    deadline: datetime | None = None
    responsible_id: int | None = None
    defer: bool = False
    renew: bool = False
    key: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class CreateTodo(Action):
    """A CRM to-do (``crm.activity.todo.add``) on a record."""

    record: RecordRef
    title: str
    deadline: datetime
    responsible_id: int | None = None
    description: str = ""
    key: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class MessageClient(Action):
    """Message the record's client (``app.channels``). ``channel``: the rule's preferred
    ``"email" | "sms" | "messenger"``; the playbook's ``message_channels`` setting may
    reorder, and a client without that address gets the next channel. ``template`` names
    the text in the ``message_templates`` setting (which overrides ``text`` when set);
    ``{field}`` placeholders are filled from the record when it is sent."""

    channel: str
    record: RecordRef
    subject: str
    text: str
    key: str = field(default="", kw_only=True)
    template: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class ChatMessage(Action):
    """A message to a staff chat (``im.message.add``, ``DIALOG_ID=chat<id>``). With no
    ``chat_id`` configured it falls back to a notification to each of ``fallback_users``."""

    chat_id: str
    text: str
    fallback_users: tuple[int, ...] = ()
    key: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class TimelineComment(Action):
    entity: str
    record_id: RecordId
    text: str
    key: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class StartTimer(Action):
    """A durable timer (``app.timers``). ``cancel_on``: a condition name the timer job
    re-checks (e.g. ``"stage_left"``), or None."""

    kind: str
    due_at: datetime
    record: RecordRef
    payload: dict[str, Any] = field(default_factory=dict)
    cancel_on: str | None = None
    key: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class CancelTimer(Action):
    kind: str
    record: RecordRef
    key: str = field(default="", kw_only=True)
