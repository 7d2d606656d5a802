"""A job whose cause of failure an operator can fix: it needs a file to exist.

Used by the failed-jobs tests and the chaos bench: enqueue ``needs_file(member_id, path)``,
watch it fail for good, create the file, requeue, watch it succeed.
"""

from __future__ import annotations

from pathlib import Path


def needs_file(member_id: str, path: str) -> str:
    """Return the file's text; raise (not retryable) while it is missing."""
    target = Path(path)
    if not target.is_file():
        raise RuntimeError(f"{target.name} is missing for {member_id}")
    return target.read_text()


def record_busy(member_id: str) -> None:
    """Fail like process_change does when a killed worker still holds the record's lock."""
    from app.sync.process import RecordBusy

    raise RecordBusy(f"lead 2 of {member_id}")
