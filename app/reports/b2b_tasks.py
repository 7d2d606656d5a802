"""b2b §4 rule 9 (seed 003 §3.4): tasks per employee — open, done, new in the period, and
the share of tasks due in the period that were overdue (the KPI the seed built on it).

From the mirrored tasks: the app mirrors the tasks it creates (the stage auto-tasks with
checklists, follow-ups, the survey's negative-handling task), which are the tasks the seed
measures; tasks people create by hand are not in the store (the note says so).
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.reports import TaskRow, task_report
from app.reports.labels import Labels
from app.store import mirror
from app.sync.tasks import COMPLETED

FAR_PAST = datetime(2000, 1, 1, tzinfo=UTC)


def rows(session, member_id) -> list[TaskRow]:
    out = []
    for r in mirror.records(session, member_id, "task"):
        data = r.data or {}
        who = data.get("responsibleId")
        if not who or not str(who).isdigit():
            continue
        created = mirror.parse_time(data.get("createdDate")) or FAR_PAST
        closed = mirror.parse_time(data.get("closedDate"))
        if str(data.get("status")) == COMPLETED and closed is None:
            closed = created
        deadline = mirror.parse_time(data.get("deadline"))
        out.append(TaskRow(r.record_id, int(who), created, deadline, closed))
    return out


def run(session, member_id, record_id, since, until, settings, now=None):
    from app.reports import Table

    now = now or datetime.now(UTC)
    start, end = since or FAR_PAST, until or now
    labels = Labels(session, member_id)
    stats = task_report(rows(session, member_id), start, end, now)
    table = tuple(
        (labels.person(s.responsible_id), s.open, s.done, s.new, s.due, s.overdue,
         s.overdue_percent)
        for s in stats
    )  # fmt: skip
    return [
        Table(
            "Tasks per employee",
            ("employee", "open", "done", "new", "due", "overdue", "overdue_%"),
            table,
            "Counts the tasks the app creates (stage tasks, follow-ups); tasks made by hand "
            "in the portal are not in the store.",
        )
    ]


def _spec():
    from app.reports import ReportSpec

    return ReportSpec(
        "b2b_tasks", "Задачи по сотрудникам", "Tasks per employee", "b2b", "portal", run
    )


SPEC = _spec()
