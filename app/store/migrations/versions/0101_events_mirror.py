"""Events/rules/sync tables: mirror, stage history, sync checkpoints, action claims, audit.

Revision ID: 0101_events_mirror
Revises: 0001_installations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision = "0101_events_mirror"
down_revision = "0001_installations"
branch_labels = ("events",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mirror_records",
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("stage", sa.String(100), nullable=True),
        sa.Column("updated_time", sa.String(40), nullable=True),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("synced_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "entity", "record_id", name="pk_mirror_records"),
    )
    op.create_table(
        "mirror_stage_history",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("stage", sa.String(100), nullable=False),
        sa.Column("entered_at", UTCDateTime(), nullable=False),
        sa.Column("entered_by", sa.Integer, nullable=True),
        sa.Column("left_at", UTCDateTime(), nullable=True),
        sa.Column("left_by", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_mirror_stage_history"),
    )
    op.create_index(
        "ix_mirror_stage_history_record",
        "mirror_stage_history",
        ["member_id", "entity", "record_id"],
    )
    op.create_table(
        "sync_checkpoints",
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("last_id", sa.Integer, nullable=False),
        sa.Column("last_modified", sa.String(40), nullable=True),
        sa.Column("finished", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "entity", "mode", name="pk_sync_checkpoints"),
    )
    op.create_table(
        "action_claims",
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("settled_at", UTCDateTime(), nullable=True),
        sa.Column("result", sa.JSON, nullable=True),
        sa.PrimaryKeyConstraint("member_id", "key", name="pk_action_claims"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=True),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("cause", sa.String(300), nullable=False),
        sa.Column("action_type", sa.String(40), nullable=False),
        sa.Column("action", sa.JSON, nullable=True),
        sa.Column("key", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_record", "audit_log", ["member_id", "entity", "record_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_record", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("action_claims")
    op.drop_table("sync_checkpoints")
    op.drop_index("ix_mirror_stage_history_record", table_name="mirror_stage_history")
    op.drop_table("mirror_stage_history")
    op.drop_table("mirror_records")
