"""index for counting a filtered hazard page (area, level, state)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:50:00
"""

from __future__ import annotations

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_hazards_area_level_state", "hazards", ["area", "level", "state"])


def downgrade() -> None:
    op.drop_index("ix_hazards_area_level_state", table_name="hazards")
