"""The outbox of messages to clients and staff chats (app.store.outbox).

Revision ID: 0701_outbox
Revises: 0001_installations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision = "0701_outbox"
down_revision = "0001_installations"
branch_labels = ("outbox",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("playbook", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("wanted", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("recipient", sa.String(255), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("provider_id", sa.String(128), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("member_id", "key", name=op.f("uq_outbox_messages_member_id_key")),
    )
    op.create_index(
        "ix_outbox_messages_record", "outbox_messages", ["member_id", "entity", "record_id"]
    )
    op.create_index("ix_outbox_messages_state", "outbox_messages", ["state", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_messages_state", table_name="outbox_messages")
    op.drop_index("ix_outbox_messages_record", table_name="outbox_messages")
    op.drop_table("outbox_messages")
