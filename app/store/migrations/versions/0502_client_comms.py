"""Index of existing clients' phones, e-mails and company names (metal lead routing).

Revision ID: 0502_client_comms
Revises: 0501_objects_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0502_client_comms"
down_revision = "0501_objects_index"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "client_comms",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("entity", sa.String(16), primary_key=True),
        sa.Column("record_id", _ID, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("value", sa.String(255), primary_key=True),
        sa.Column("responsible_id", _ID, nullable=True),
    )
    op.create_index("ix_client_comms_value", "client_comms", ["member_id", "kind", "value"])


def downgrade() -> None:
    op.drop_index("ix_client_comms_value", table_name="client_comms")
    op.drop_table("client_comms")
