"""face blurring: originals with faces are sealed evidence, served blurred to everyone else

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from workflow.persistence.types import UtcDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "sealed_objects",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("display_key", sa.String(length=128), nullable=True),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_sealed_objects_display_key", "sealed_objects", ["display_key"])


def downgrade() -> None:
    op.drop_index("ix_sealed_objects_display_key", table_name="sealed_objects")
    op.drop_table("sealed_objects")
