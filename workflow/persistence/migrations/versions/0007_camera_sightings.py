"""recent finding keys per camera snapshot (temporal confirmation)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import workflow.persistence.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "camera_sightings",
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("captured_at", workflow.persistence.types.UtcDateTime(), nullable=False),
        sa.Column("keys", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("camera_id", "captured_at"),
    )


def downgrade() -> None:
    op.drop_table("camera_sightings")
