"""The rule engine: portal changes in, actions out, applied exactly once.

How it fits together (see docs/architecture.md, "Rules as data"):

* ``model``     — :class:`Change`, :class:`Trigger` (``on_created()``, ``on_stage_entered(...)``,
                  ``on_field_changed(...)``, ``on_responsible_changed()``, ``on_deleted()``,
                  ``on_any_update()``, ``on_timer(kind)``, ``on_robot(code)``,
                  ``on_task_completed(tag)`` for tasks the app created with that tag),
                  :class:`Rule`, :class:`RuleContext`.
* ``actions``   — the action values a rule returns (UpdateFields, MoveStage, CreateRecord,
                  LinkRecords, DeleteRecord, Notify, CreateTask, UpdateTask, CreateTodo,
                  MessageClient (sent through ``app.channels``), ChatMessage,
                  TimelineComment, StartTimer, CancelTimer).
* ``changes``   — the pure diff: mirror snapshot vs current record → list of changes.
* ``dispatch``  — the table: which rules of which playbooks see a change.
* ``engine``    — runs the matching rules on a change (pure) → (rule, actions) pairs.
* ``apply``     — ``apply_actions(services, member_id, actions, *, cause, rule)``: one batch
                  through the gateway, per-action idempotency claims, audit, mirror update.
* ``idempotency`` / ``audit`` — the claim table and the audit log helpers.

Adding rules (no change to this package needed)
-----------------------------------------------
A playbook's rules live in modules ``app/playbooks/<playbook>/rules*.py`` (``rules.py``,
``rules_leads.py``, ``rules_deals.py``…). Each module exposes ``RULES: list[Rule]``. The
dispatch table imports every ``rules*.py`` module of every playbook installed on a portal
(found with ``pkgutil``), so a new behaviour is one rule function plus one entry in ``RULES``::

    from app.rules.actions import Notify
    from app.rules.model import Rule, on_stage_entered

    def _tell_head(ctx):
        head = ctx.settings["head_of_sales_id"]
        return [Notify((head,), f"Lead {ctx.change.record_id} has all data")]

    RULES = [
        Rule("lead_data_complete_notify", "lead",
             on_stage_entered("metal.lead.data_complete"), _tell_head),
    ]

Rules must be pure and deterministic (see ``model``). A rule's ``name`` is part of the
idempotency key of everything it does: do not rename deployed rules.
"""
