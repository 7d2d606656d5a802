"""Robot runs: exactly-once robot calls keyed by (member_id, event token digest).

Revision ID: 0401_robot_runs
Revises: 0001_installations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision = "0401_robot_runs"
down_revision = "0001_installations"
branch_labels = ("robots",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "robot_runs",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("document", sa.String(100), nullable=False),
        sa.Column("workflow_id", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("wait_answer", sa.Boolean, nullable=False),
        sa.Column("deadline_at", UTCDateTime(), nullable=True),
        sa.Column("return_values", sa.JSON, nullable=True),
        sa.Column("log_message", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_robot_runs")),
        sa.UniqueConstraint(
            "member_id", "token_digest", name=op.f("uq_robot_runs_member_id_token_digest")
        ),
    )


def downgrade() -> None:
    op.drop_table("robot_runs")
