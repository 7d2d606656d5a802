"""The metal Object duplicate index and the Object merge journal.

Revision ID: 0501_objects_index
Revises: 0001_installations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision = "0501_objects_index"
down_revision = "0001_installations"
branch_labels = ("objects",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "object_keys",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("object_id", _ID, primary_key=True, autoincrement=False),
        sa.Column("key_hash", sa.String(32), nullable=True),
        sa.Column("lead_id", _ID, nullable=True),
        sa.Column("deal_id", _ID, nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_object_keys_hash", "object_keys", ["member_id", "key_hash"])
    op.create_index("ix_object_keys_lead", "object_keys", ["member_id", "lead_id"])
    op.create_index("ix_object_keys_deal", "object_keys", ["member_id", "deal_id"])
    op.create_table(
        "object_merges",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("main_id", _ID, nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("plan", sa.JSON, nullable=False),
        sa.Column("steps", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_object_merges_member_id", "object_merges", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_object_merges_member_id", table_name="object_merges")
    op.drop_table("object_merges")
    op.drop_index("ix_object_keys_deal", table_name="object_keys")
    op.drop_index("ix_object_keys_lead", table_name="object_keys")
    op.drop_index("ix_object_keys_hash", table_name="object_keys")
    op.drop_table("object_keys")
