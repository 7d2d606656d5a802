"""Robot runs (filled in below)."""

from __future__ import annotations

from b24emu.state import Portal


def stage_entered(
    portal: Portal,
    etid: int,
    item_id: int,
    category_id: int | None,
    stage_id: str,
    user_id: int | None,
) -> None:
    return None


def expire_runs(portal: Portal) -> None:
    return None
