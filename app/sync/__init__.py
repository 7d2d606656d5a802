"""Keeps the mirror true: per-event fetch and processing (``process``), full sync (``full``),
offline-event catch-up (``offline``) and periodic reconciliation (``reconcile``). Every
entry point takes a :class:`~app.sync.context.PortalContext`."""
