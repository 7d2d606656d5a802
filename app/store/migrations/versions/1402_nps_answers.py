"""b2b survey answers (seed 003 NPS): one row per deal — the link is single-use.

Revision ID: 1402_nps_answers
Revises: 1401_imports
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision = "1402_nps_answers"
down_revision = "1401_imports"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "nps_answers",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("deal_id", _ID, primary_key=True, autoincrement=False),
        sa.Column("delivery", sa.Integer, nullable=False),
        sa.Column("packaging", sa.Integer, nullable=False),
        sa.Column("shelf", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.Column("manager_id", _ID, nullable=True),
        sa.Column("contact_id", _ID, nullable=True),
        sa.Column("written_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_nps_answers_answered", "nps_answers", ["member_id", "answered_at"])


def downgrade() -> None:
    op.drop_index("ix_nps_answers_answered", table_name="nps_answers")
    op.drop_table("nps_answers")
