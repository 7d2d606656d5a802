"""Per-portal playbook setting overrides.

Revision ID: 0202_portal_settings
Revises: 0001_installations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision = "0202_portal_settings"
down_revision = "0001_installations"
branch_labels = ("settings",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_settings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("playbook", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON, nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_settings")),
        sa.UniqueConstraint(
            "member_id", "playbook", "key", name=op.f("uq_portal_settings_member_id_playbook_key")
        ),
    )
    op.create_index(op.f("ix_portal_settings_member_id"), "portal_settings", ["member_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_portal_settings_member_id"), table_name="portal_settings")
    op.drop_table("portal_settings")
