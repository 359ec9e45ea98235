"""camera frames count towards PPE compliance: people with and without a helmet per day and zone

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "ppe_tallies",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("compliant", sa.Integer(), nullable=False),
        sa.Column("violations", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "zone"),
    )


def downgrade() -> None:
    op.drop_table("ppe_tallies")
