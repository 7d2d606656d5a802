"""Objects claimed by unfinished merge journals: overlapping merges cannot run together.

Revision ID: 0503_object_merge_claims
Revises: 0502_client_comms
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0503_object_merge_claims"
down_revision = "0502_client_comms"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "object_merge_claims",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("object_id", _ID, primary_key=True, autoincrement=False),
        sa.Column("merge_id", _ID, nullable=False),
    )
    op.create_index(
        "ix_object_merge_claims_merge_id", "object_merge_claims", ["merge_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_object_merge_claims_merge_id", table_name="object_merge_claims")
    op.drop_table("object_merge_claims")
