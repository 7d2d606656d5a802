"""The portal's language at install time: the installer names stages, pipelines, smart
processes, list values and placements in it (issue #16; ``app.installers.language``).

Revision ID: 1604_installation_lang
Revises: 0001_installations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1604_installation_lang"
down_revision = "0001_installations"
branch_labels = ("installation_lang",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("installations") as batch:
        batch.add_column(sa.Column("lang", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("installations") as batch:
        batch.drop_column("lang")
