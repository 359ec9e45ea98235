"""ORM tables (SQLAlchemy 2.0 typed). Indexes follow the API's list/filter queries."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from workflow.persistence.types import UtcDateTime


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class ZoneRow(Base):
    __tablename__ = "zones"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    area: Mapped[str] = mapped_column(String(100))
    permit_required: Mapped[bool] = mapped_column(Boolean, default=False)
    permit_kinds: Mapped[str] = mapped_column(String(200), default="")  # comma-separated PermitType values


class HazardRow(Base):
    __tablename__ = "hazards"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    zone: Mapped[str] = mapped_column(String(64))
    area: Mapped[str] = mapped_column(String(100))
    equipment_id: Mapped[str | None] = mapped_column(String(100))
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(128))
    dedup_key: Mapped[str] = mapped_column(String(400))
    repeat_key: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(32))
    likelihood: Mapped[int] = mapped_column(Integer)
    severity: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(16))
    level_rank: Mapped[int] = mapped_column(Integer)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    repeat_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)
    discovered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    notify_by: Mapped[datetime] = mapped_column(UtcDateTime)
    respond_by: Mapped[datetime] = mapped_column(UtcDateTime)
    fix_by: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    rectified_by: Mapped[int | None] = mapped_column(Integer)
    rectified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    evidence_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    # Optimistic locking: UPDATE ... WHERE version = :seen; zero rows → StaleDataError → ConcurrencyConflict.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        # Equality on area + level, then an ordered scan by (fix_by, id) = the API's overdue-first page.
        Index("ix_hazards_area_level_fix", "area", "level", "fix_by", "id"),
        Index("ix_hazards_area_state_fix", "area", "state", "fix_by"),
        # Index-only count for the filtered page's total (1M rows: ~300 ms heap scan → < 1 ms).
        Index("ix_hazards_area_level_state", "area", "level", "state"),
        Index("ix_hazards_fix_by", "fix_by"),
        Index("ix_hazards_dedup", "dedup_key", "state"),
        Index("ix_hazards_repeat", "repeat_key", "discovered_at"),
        Index("ix_hazards_equipment", "kind", "equipment_id", "state"),
    )


class HazardEventRow(Base):
    """Who did what when, for every lifecycle step (the evidence chain)."""

    __tablename__ = "hazard_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(Text)


class EvidenceRow(Base):
    """Append-only: the repository offers no update or delete path."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    object_keys: Mapped[str] = mapped_column(Text)  # JSON list of object-store keys
    payload: Mapped[str | None] = mapped_column(Text)  # JSON text, e.g. a VerificationOutcome
    observation_id: Mapped[str | None] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("hazard_id", "seq", name="uq_evidence_hazard_seq"),)


class EvidenceObjectRow(Base):
    """Every object key that evidence refers to (one row per key), so retention can tell which camera
    frames are evidence without parsing each evidence row's JSON."""

    __tablename__ = "evidence_objects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), index=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"))


class FrameRow(Base):
    """A camera frame in the object store (snapshot or annotated frame), deleted after the retention
    period unless evidence refers to it."""

    __tablename__ = "camera_frames"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class CameraInspectionRow(Base):
    """The latest inspection of each camera, so an API process shows what workers elsewhere found."""

    __tablename__ = "camera_inspections"
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    inspected_at: Mapped[datetime] = mapped_column(UtcDateTime)
    annotated_key: Mapped[str | None] = mapped_column(String(128))
    people: Mapped[int] = mapped_column(Integer)
    findings: Mapped[str] = mapped_column(Text)  # JSON list of {kind, confidence, box, zone}


class PpeTallyRow(Base):
    """People seen by cameras with and without a helmet, per UTC day and zone (PPE compliance KPI):
    one row per day and zone instead of an observation per person per frame."""

    __tablename__ = "ppe_tallies"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    zone: Mapped[str] = mapped_column(String(64), primary_key=True)
    compliant: Mapped[int] = mapped_column(Integer)
    violations: Mapped[int] = mapped_column(Integer)


class SealedObjectRow(Base):
    """An original image with faces in it, kept as sealed evidence: people without the right to see it
    get ``display_key``, its face-blurred copy (None while the copy is still being made)."""

    __tablename__ = "sealed_objects"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    display_key: Mapped[str | None] = mapped_column(String(128), index=True)
    zone: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CameraSightingRow(Base):
    """The finding keys of each camera's recent snapshots, for temporal confirmation (k of the last n)."""

    __tablename__ = "camera_sightings"
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    captured_at: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    keys: Mapped[str] = mapped_column(Text)  # JSON list of "kind|zone"


class WatchConfigRow(Base):
    """A camera's watched regions set through the API: they replace the camera file's ``watch`` for that
    camera until deleted (an empty list watches nothing)."""

    __tablename__ = "watch_configs"
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    regions: Mapped[str] = mapped_column(Text)  # JSON list of {name, kind, points: [[x, y], ...]}
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))


class ObservationRow(Base):
    """Every observation once (idempotency key), for de-dup, PPE compliance and repeat counts."""

    __tablename__ = "observations"
    observation_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    hazard_id: Mapped[int | None] = mapped_column(ForeignKey("hazards.id"))
    kind: Mapped[str] = mapped_column(String(100))
    zone: Mapped[str] = mapped_column(String(64))
    area: Mapped[str] = mapped_column(String(100))
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(128))
    confidence: Mapped[float] = mapped_column(Float)
    observed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))
    __table_args__ = (Index("ix_observations_area_kind_at", "area", "kind", "observed_at"),)


class PermitRow(Base):
    __tablename__ = "permits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    permit_type: Mapped[str] = mapped_column(String(32))
    zone: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_to: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))
    min_people: Mapped[int] = mapped_column(Integer)
    max_people: Mapped[int | None] = mapped_column(Integer)
    watcher_required: Mapped[bool] = mapped_column(Boolean)
    description: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[int | None] = mapped_column(Integer)
    approvals: Mapped[str] = mapped_column(String(100), default="")  # comma-separated user ids
    suspend_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (Index("ix_permits_zone_status", "zone", "status", "valid_to"),)


class SensorRow(Base):
    __tablename__ = "sensors"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    zone: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(16))
    thresholds: Mapped[str] = mapped_column(Text)  # JSON [[tier, rising, falling], ...]
    debounce_s: Mapped[float] = mapped_column(Float)
    stale_after_s: Mapped[float] = mapped_column(Float)
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    # Live state of the tier machine, updated with each reading.
    tier: Mapped[int] = mapped_column(Integer, default=1)
    candidate_tier: Mapped[int | None] = mapped_column(Integer)
    candidate_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_value: Mapped[float | None] = mapped_column(Float)
    last_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)


class AlertRow(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(
        String(32)
    )  # sensor.tier | sensor.stale | permit.understaffed | permit.overstaffed
    sensor_id: Mapped[str | None] = mapped_column(ForeignKey("sensors.id"))
    zone: Mapped[str] = mapped_column(String(64))
    tier: Mapped[int | None] = mapped_column(Integer)
    previous_tier: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[float | None] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    hazard_id: Mapped[int | None] = mapped_column(ForeignKey("hazards.id"))
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    camera_id: Mapped[str | None] = mapped_column(String(64), default=None)  # camera.* alerts


class AuditRow(Base):
    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """Single row: last seq and hash. Locked per append so the chain is linear under concurrency."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
