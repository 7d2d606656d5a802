"""Durable timers and the cached portal directory used to resolve audiences.

Revision ID: 0301_timers
Revises: 0001_installations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision = "0301_timers"
down_revision = "0001_installations"
branch_labels = ("timers",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "timers",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("cancel_on", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timers")),
        sa.UniqueConstraint("member_id", "key", name=op.f("uq_timers_member_id_key")),
    )
    op.create_index("ix_timers_state_due_at", "timers", ["state", "due_at"])
    op.create_index("ix_timers_record", "timers", ["member_id", "entity", "record_id", "kind"])
    op.create_table(
        "timer_directory",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timer_directory")),
        sa.UniqueConstraint("member_id", "name", name=op.f("uq_timer_directory_member_id_name")),
    )


def downgrade() -> None:
    op.drop_table("timer_directory")
    op.drop_index("ix_timers_record", table_name="timers")
    op.drop_index("ix_timers_state_due_at", table_name="timers")
    op.drop_table("timers")
