"""latest inspection per camera (shared by API and worker processes)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 19:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import workflow.persistence.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "camera_inspections",
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("inspected_at", workflow.persistence.types.UtcDateTime(), nullable=False),
        sa.Column("annotated_key", sa.String(length=128), nullable=True),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("camera_id"),
    )


def downgrade() -> None:
    op.drop_table("camera_inspections")
