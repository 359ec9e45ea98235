"""ORM tables for inspectors' field photos, their analysis results and the detection review queue.

A separate module from ``orm`` (same ``Base``) so the photo flow evolves on its own migration (0002).
Analysis results are JSON text written and read only by ``workflow.services.photos``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workflow.persistence.orm import Base
from workflow.persistence.types import UtcDateTime


class PhotoRow(Base):
    """One accepted upload; ``photo_id`` is the sha256 of the stored (metadata-free) original."""

    __tablename__ = "photos"
    photo_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    upload_sha256: Mapped[str] = mapped_column(String(64), index=True)  # of the bytes as uploaded
    status: Mapped[str] = mapped_column(String(16))  # queued | done | failed
    original_key: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(32))
    annotated_key: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[str | None] = mapped_column(String(40))  # ISO text: EXIF times may be naive local
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    zone: Mapped[str] = mapped_column(String(64))
    area: Mapped[str | None] = mapped_column(String(100))
    equipment_id: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(Text)  # JSON: models, detections, findings, hazards
    error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_photos_status_received", "status", "received_at"),)


class PhotoUploadKeyRow(Base):
    """Client ``Idempotency-Key`` → photo: a retried upload with the same key gets the same result."""

    __tablename__ = "photo_upload_keys"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    photo_id: Mapped[str] = mapped_column(ForeignKey("photos.photo_id"))
    # Of the bytes sent with this key: intake strips trailers/EXIF, so two different uploads can be
    # one photo, and a retry must be compared with what was sent under its key, not with the photo.
    upload_sha256: Mapped[str] = mapped_column(String(64))


class PhotoReviewRow(Base):
    """A safety engineer's confirmed/corrected boxes for one photo (latest review wins)."""

    __tablename__ = "photo_reviews"
    photo_id: Mapped[str] = mapped_column(ForeignKey("photos.photo_id"), primary_key=True)
    detections: Mapped[str] = mapped_column(Text)  # JSON [{"label", "box": [x1, y1, x2, y2]}]
    note: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str] = mapped_column(String(100))
    reviewed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
