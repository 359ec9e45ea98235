"""permits name their crew size: max_people (nullable: no upper limit)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("permits", sa.Column("max_people", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("permits") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("max_people")
