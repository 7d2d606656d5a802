"""Installations: one row per portal (member_id), tokens or webhook, install progress.

Revision ID: 0001_installations
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision = "0001_installations"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "installations",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("client_endpoint", sa.String(500), nullable=True),
        sa.Column("server_endpoint", sa.String(500), nullable=True),
        sa.Column("auth_mode", sa.String(16), nullable=False),
        sa.Column("webhook_url", sa.String(500), nullable=True),
        sa.Column("access_token", sa.String(500), nullable=True),
        sa.Column("refresh_token", sa.String(500), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("application_token", sa.String(128), nullable=True),
        sa.Column("scopes", sa.String(1000), nullable=True),
        sa.Column("app_version", sa.String(32), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("playbooks", sa.JSON, nullable=True),
        sa.Column("playbook_settings", sa.JSON, nullable=True),
        sa.Column("install_progress", sa.Text, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_installations"),
        sa.UniqueConstraint("member_id", name="uq_installations_member_id"),
    )
    op.create_index("ix_installations_domain", "installations", ["domain"])


def downgrade() -> None:
    op.drop_index("ix_installations_domain", table_name="installations")
    op.drop_table("installations")
