"""Task links: the app's tasks by the CRM record they are bound to (derived from the mirror).

Filled from the tasks already mirrored, so an upgraded portal's open tasks are found too.

Revision ID: 0102_task_links
Revises: 0101_events_mirror
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0102_task_links"
down_revision = "0101_events_mirror"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ABBR = {"L": "lead", "D": "deal", "C": "contact", "CO": "company"}


def upgrade() -> None:
    links = op.create_table(
        "task_links",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("task_id", _ID, primary_key=True, autoincrement=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", _ID, nullable=False),
        sa.Column("tag", sa.String(100), nullable=False),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("deadline", sa.String(40), nullable=True),
        sa.Column("responsible_id", _ID, nullable=True),
    )
    op.create_index(
        "ix_task_links_record", "task_links", ["member_id", "entity", "record_id"], unique=False
    )
    _backfill(links)


def _backfill(links: sa.Table) -> None:
    bind = op.get_bind()
    mirror = sa.table(
        "mirror_records",
        sa.column("member_id", sa.String),
        sa.column("entity", sa.String),
        sa.column("record_id", sa.Integer),
        sa.column("data", sa.JSON),
        sa.column("deleted", sa.Boolean),
    )
    rows = bind.execute(
        sa.select(mirror.c.member_id, mirror.c.record_id, mirror.c.data).where(
            mirror.c.entity == "task", mirror.c.deleted.is_(False)
        )
    )
    out = [link for member, task_id, data in rows if (link := _link(member, task_id, data))]
    if out:
        bind.execute(sa.insert(links), out)


def _link(member_id: str, task_id: int, data) -> dict | None:
    """The link row of one mirrored task snapshot (its first CRM binding), or None."""
    if isinstance(data, str):
        data = json.loads(data)
    for value in (data or {}).get("ufCrmTask") or []:
        abbr, _, rid = str(value).partition("_")
        if abbr in _ABBR and rid.isdigit():
            who = str(data.get("responsibleId") or "")
            return {
                "member_id": member_id,
                "task_id": int(task_id),
                "entity": _ABBR[abbr],
                "record_id": int(rid),
                "tag": str(data.get("#tag") or ""),
                "open": str(data.get("status") or "") not in ("5", "6"),
                "deadline": data.get("deadline"),
                "responsible_id": int(who) if who.isdigit() else None,
            }
    return None


def downgrade() -> None:
    op.drop_index("ix_task_links_record", table_name="task_links")
    op.drop_table("task_links")
