"""Durable intake: robot calls, lifecycle events and jobs kept while Redis is down.

Revision ID: 0801_durable_intake
Revises: 0001_installations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision = "0801_durable_intake"
down_revision = "0001_installations"
branch_labels = ("security",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "durable_intake",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_durable_intake")),
    )
    op.create_index(op.f("ix_durable_intake_member_id"), "durable_intake", ["member_id"])


def downgrade() -> None:
    op.drop_table("durable_intake")
