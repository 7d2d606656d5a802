"""The audit of playbook setting changes (issue #16: who, when, playbook, key, old → new).

Revision ID: 1601_setting_changes
Revises: 0001_installations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision = "1601_setting_changes"
down_revision = "0001_installations"
branch_labels = ("setting_changes",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "setting_changes",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("playbook", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("old_value", sa.JSON, nullable=True),
        sa.Column("new_value", sa.JSON, nullable=True),
        sa.Column("user_id", _ID, nullable=True),
        sa.Column("user_name", sa.String(255), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_setting_changes_member", "setting_changes", ["member_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_setting_changes_member", table_name="setting_changes")
    op.drop_table("setting_changes")
