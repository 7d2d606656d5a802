"""Spreadsheet imports (metal, seed 001): a run per file and mapping, and each row's outcome.

The rows table is the import's checkpoint: a chunk's outcomes and the run's ``next_row``
are written in one transaction after the portal accepted the chunk, so a killed run
resumes after the last chunk it recorded.

Revision ID: 1401_imports
Revises: 0001_installations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision = "1401_imports"
down_revision = "0001_installations"
branch_labels = ("imports",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "import_runs",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("next_row", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("member_id", "signature", name="uq_import_runs_member_id"),
    )
    op.create_table(
        "import_rows",
        sa.Column("run_id", _ID, sa.ForeignKey("import_runs.id"), primary_key=True),
        sa.Column("row_no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("ids", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("import_rows")
    op.drop_table("import_runs")
