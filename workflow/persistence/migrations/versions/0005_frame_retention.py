"""camera frame ledger and evidence object references (frame retention)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:45:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

import workflow.persistence.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_objects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["hazard_id"], ["hazards.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_evidence_objects_key"), "evidence_objects", ["key"], unique=False)
    op.create_table(
        "camera_frames",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("stored_at", workflow.persistence.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_camera_frames_stored_at"), "camera_frames", ["stored_at"], unique=False)
    # Existing evidence: index the keys it already refers to.
    bind = op.get_bind()
    evidence = bind.execute(sa.text("SELECT hazard_id, object_keys FROM evidence")).all()
    refs = [{"key": key, "hazard_id": hazard_id} for hazard_id, keys in evidence for key in json.loads(keys)]
    if refs:
        bind.execute(sa.text("INSERT INTO evidence_objects (key, hazard_id) VALUES (:key, :hazard_id)"), refs)


def downgrade() -> None:
    op.drop_index(op.f("ix_camera_frames_stored_at"), table_name="camera_frames")
    op.drop_table("camera_frames")
    op.drop_index(op.f("ix_evidence_objects_key"), table_name="evidence_objects")
    op.drop_table("evidence_objects")
