"""Durable timers: rows in the store, a clock process that enqueues the due ones.

* ``app.store.timers``   — the :class:`Timer` row (state, due time, payload, cancel condition).
* ``service``            — ``start_timer`` / ``cancel_timers`` / ``cancel_all_for_portal`` /
                           ``list_timers``: what rules' StartTimer/CancelTimer actions become.
* ``claims``             — atomic claiming of due rows and the lease that returns rows whose
                           job vanished (Redis flushed, worker killed) to ``pending``.
* ``clock``              — ``python -m app.timers.clock``: tick = release expired leases,
                           claim due rows, enqueue ``fire_timer`` for each.
* ``jobs``               — ``fire_timer``: re-read the record, check the cancel condition, run
                           the rules listening for the timer's kind, apply, mark fired.
* ``conditions``         — named cancel conditions (``stage_left``, ``responsible_changed`` …).
* ``handlers``           — per-kind metadata (which audiences the handler needs).
* ``sequences``          — escalation chains and cadences (``app.domain.sequences``) on timers.
* ``audiences``          — roles ("sales", "head_of_sales", "ceo", …) → portal user ids.
* ``clocks``             — the injectable :class:`Clock` (tests move time, never sleep).
"""
