"""photos, upload idempotency keys and detection reviews

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import workflow.persistence.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "photos",
        sa.Column("photo_id", sa.String(length=64), nullable=False),
        sa.Column("upload_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("original_key", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("annotated_key", sa.String(length=64), nullable=True),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.String(length=40), nullable=True),
        sa.Column("gps_lat", sa.Float(), nullable=True),
        sa.Column("gps_lon", sa.Float(), nullable=True),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("area", sa.String(length=100), nullable=True),
        sa.Column("equipment_id", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("received_at", workflow.persistence.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", workflow.persistence.types.UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("photo_id"),
    )
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.create_index("ix_photos_status_received", ["status", "received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_photos_upload_sha256"), ["upload_sha256"], unique=False)

    op.create_table(
        "photo_upload_keys",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("photo_id", sa.String(length=64), nullable=False),
        sa.Column("upload_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["photo_id"], ["photos.photo_id"]),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "photo_reviews",
        sa.Column("photo_id", sa.String(length=64), nullable=False),
        sa.Column("detections", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=100), nullable=False),
        sa.Column("reviewed_at", workflow.persistence.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["photo_id"], ["photos.photo_id"]),
        sa.PrimaryKeyConstraint("photo_id"),
    )
    with op.batch_alter_table("photo_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_photo_reviews_reviewed_at"), ["reviewed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("photo_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_photo_reviews_reviewed_at"))
    op.drop_table("photo_reviews")
    op.drop_table("photo_upload_keys")
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_photos_upload_sha256"))
        batch_op.drop_index("ix_photos_status_received")
    op.drop_table("photos")
