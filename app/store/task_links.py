"""Which of the app's tasks belong to which CRM record: one indexed row per mirrored task.

The mirror keeps a task as a JSON snapshot (``app.sync.tasks``); "the open measurer task of
lead 17" would be a scan of every task the app ever created. ``task_links`` is derived from
the mirror (a listener keeps it in the same transaction): the record the task is bound to,
the playbook's tag, whether it is still open, its deadline and responsible — so a rule can
move or reuse a task instead of creating a second one, with one indexed lookup.

Functions take a ``Session`` and never commit: the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.base import Base

_ID = BigInteger().with_variant(Integer(), "sqlite")


class TaskLink(Base):
    __tablename__ = "task_links"
    __table_args__ = (Index("ix_task_links_record", "member_id", "entity", "record_id"),)

    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    task_id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=False)
    entity: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int] = mapped_column(_ID)
    tag: Mapped[str] = mapped_column(String(100), default="")
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    deadline: Mapped[str | None] = mapped_column(String(40), nullable=True)
    responsible_id: Mapped[int | None] = mapped_column(_ID, nullable=True)


@dataclass(frozen=True)
class OpenTask:
    """An open task of the app bound to a record (what rules see)."""

    id: int
    tag: str
    deadline: str | None
    responsible_id: int | None


def put(
    session: Session,
    member_id: str,
    task_id: int,
    entity: str,
    record_id: int,
    *,
    tag: str,
    open: bool,
    deadline: str | None,
    responsible_id: int | None,
) -> None:
    row = session.get(TaskLink, (member_id, int(task_id)))
    if row is None:
        row = TaskLink(member_id=member_id, task_id=int(task_id))
        session.add(row)
    row.entity, row.record_id, row.tag, row.open = entity, int(record_id), tag or "", bool(open)
    row.deadline, row.responsible_id = deadline, responsible_id


def remove(session: Session, member_id: str, task_id: int) -> None:
    session.execute(
        delete(TaskLink).where(TaskLink.member_id == member_id, TaskLink.task_id == int(task_id))
    )


def open_tasks(session: Session, member_id: str, entity: str, record_id: int) -> list[OpenTask]:
    """The record's open tasks of the app, oldest first."""
    q = (
        select(TaskLink)
        .where(
            TaskLink.member_id == member_id,
            TaskLink.entity == entity,
            TaskLink.record_id == int(record_id),
            TaskLink.open.is_(True),
        )
        .order_by(TaskLink.task_id)
    )
    return [OpenTask(r.task_id, r.tag, r.deadline, r.responsible_id) for r in session.scalars(q)]
