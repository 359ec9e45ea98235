"""Field photo records: upload bookkeeping, analysis results, and the detection review queue.

The serving layer runs the detectors and stores the bytes; this module only records what happened, as
typed values (analysis results are JSON text in the row, parsed back into frozen dataclasses here).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from workflow.domain.audit import canonical_payload
from workflow.domain.errors import InvalidInput, NotFound
from workflow.persistence.photo_rows import PhotoReviewRow, PhotoRow, PhotoUploadKeyRow
from workflow.persistence.uow import UnitOfWork
from workflow.services.context import WorkflowContext
from workflow.services.races import retry_races

Box = tuple[float, float, float, float]
MAX_REVIEW_BOXES = 500
_MAX_ERROR_CHARS = 2000


class PhotoStatus(StrEnum):
    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PhotoDetection:
    label: str
    confidence: float
    box: Box
    model: str  # name@version


@dataclass(frozen=True, slots=True)
class PhotoFinding:
    kind: str
    confidence: float
    box: Box


@dataclass(frozen=True, slots=True)
class PhotoHazardLink:
    hazard_id: int
    outcome: str  # IngestStatus value: created | appended | reopened | duplicate


@dataclass(frozen=True, slots=True)
class PhotoAnalysis:
    models: tuple[str, ...]
    detections: tuple[PhotoDetection, ...]
    findings: tuple[PhotoFinding, ...]
    hazards: tuple[PhotoHazardLink, ...]
    people: int = 0


@dataclass(frozen=True, slots=True)
class NewPhoto:
    """An upload whose original is already durably stored (``original_key``)."""

    photo_id: str
    upload_sha256: str
    original_key: str
    media_type: str
    width: int
    height: int
    taken_at: str | None
    gps_lat: float | None
    gps_lon: float | None
    zone: str
    area: str | None
    equipment_id: str | None
    description: str | None
    uploaded_by: str


@dataclass(frozen=True, slots=True)
class PhotoView:
    photo_id: str
    upload_sha256: str
    status: PhotoStatus
    original_key: str
    media_type: str
    annotated_key: str | None
    width: int
    height: int
    taken_at: str | None
    gps_lat: float | None
    gps_lon: float | None
    zone: str
    area: str | None
    equipment_id: str | None
    description: str | None
    uploaded_by: str
    received_at: datetime
    attempts: int
    analysis: PhotoAnalysis | None
    error: str | None

    @classmethod
    def of(cls, r: PhotoRow) -> PhotoView:
        return cls(
            r.photo_id,
            r.upload_sha256,
            PhotoStatus(r.status),
            r.original_key,
            r.media_type,
            r.annotated_key,
            r.width,
            r.height,
            r.taken_at,
            r.gps_lat,
            r.gps_lon,
            r.zone,
            r.area,
            r.equipment_id,
            r.description,
            r.uploaded_by,
            r.received_at,
            r.attempts,
            _load_analysis(r.result) if r.result else None,
            r.error,
        )


@dataclass(frozen=True, slots=True)
class ReviewedBox:
    label: str
    box: Box


@dataclass(frozen=True, slots=True)
class ReviewView:
    photo_id: str
    original_key: str
    width: int
    height: int
    detections: tuple[ReviewedBox, ...]
    note: str | None
    reviewed_by: str
    reviewed_at: datetime


# --- uploads and results -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriorUpload:
    """A photo recorded earlier for this key or these bytes, and the sha256 of the bytes sent then."""

    photo: PhotoView
    upload_sha256: str


def scoped_key(uploader: str, idempotency_key: str) -> str:
    """A client's Idempotency-Key is its own: one inspector's key never names another's upload."""
    return hashlib.sha256(f"{uploader}\n{idempotency_key}".encode()).hexdigest()


def find_upload(
    ctx: WorkflowContext, upload_sha256: str, idempotency_key: str | None, uploader: str
) -> PriorUpload | None:
    """A prior upload with this uploader's key, or else of exactly these bytes (a replay), if any."""
    with ctx.uow() as uow:
        if idempotency_key:
            link = uow.session.get(PhotoUploadKeyRow, scoped_key(uploader, idempotency_key))
            linked = uow.session.get(PhotoRow, link.photo_id) if link is not None else None
            # A key's photo is never deleted, so ``linked`` is None only with ``link``: and/or are one.
            if link is not None and linked is not None:  # pragma: no mutate
                return PriorUpload(PhotoView.of(linked), link.upload_sha256)
        row = uow.session.scalars(
            select(PhotoRow)
            .where(PhotoRow.upload_sha256 == upload_sha256)
            .limit(1)  # pragma: no mutate (under .first(), a larger LIMIT or none only fetches more rows)
        ).first()
        return PriorUpload(PhotoView.of(row), row.upload_sha256) if row is not None else None


def _attempt_record_upload(
    ctx: WorkflowContext, new: NewPhoto, idempotency_key: str | None
) -> tuple[PhotoView, bool]:
    """Record an accepted upload as queued; returns (view, created). An existing photo id is a replay."""
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 128:
        raise InvalidInput("Idempotency-Key must be 1–128 characters")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        row = uow.session.get(PhotoRow, new.photo_id)
        created = row is None
        if row is None:
            row = _new_row(new, now)
            uow.session.add(row)
            uow.repo.append_audit(
                now, new.uploaded_by, "photo.uploaded", "photo", new.photo_id,
                canonical_payload({"zone": new.zone, "original_key": new.original_key}),
            )  # fmt: skip
        scoped = scoped_key(new.uploaded_by, idempotency_key) if idempotency_key is not None else None
        if scoped is not None and uow.session.get(PhotoUploadKeyRow, scoped) is None:
            uow.session.add(
                PhotoUploadKeyRow(key=scoped, photo_id=new.photo_id, upload_sha256=new.upload_sha256)
            )
        # A concurrent upload of the same photo (or key) that wins the insert makes this commit raise
        # IntegrityError: retry_races runs it again, and the retry finds the winner's row, a replay.
        uow.commit()
        return PhotoView.of(row), created


record_upload = retry_races(_attempt_record_upload)


def _new_row(new: NewPhoto, now: datetime) -> PhotoRow:
    return PhotoRow(
        photo_id=new.photo_id,
        upload_sha256=new.upload_sha256,
        status=PhotoStatus.QUEUED.value,
        original_key=new.original_key,
        media_type=new.media_type,
        width=new.width,
        height=new.height,
        taken_at=new.taken_at,
        gps_lat=new.gps_lat,
        gps_lon=new.gps_lon,
        zone=new.zone,
        area=new.area,
        equipment_id=new.equipment_id,
        description=new.description,
        uploaded_by=new.uploaded_by,
        received_at=now,
        updated_at=now,
    )  # attempts 0 by the column's default; the annotated key, result and error come later


def get_photo(ctx: WorkflowContext, photo_id: str) -> PhotoView:
    with ctx.uow() as uow:
        return PhotoView.of(_photo(uow, photo_id))


def _attempt_begin_attempt(ctx: WorkflowContext, photo_id: str) -> PhotoView:
    """Count one analysis attempt (the handler calls this first; a done photo is left as it is)."""
    with ctx.uow() as uow:
        row = _photo(uow, photo_id)
        if row.status != PhotoStatus.DONE.value:
            row.attempts += 1
            row.status = PhotoStatus.QUEUED.value  # a retry of a failed attempt is in progress again
            row.updated_at = ctx.clock.now()
        view = PhotoView.of(row)
        uow.commit()
        return view


begin_attempt = retry_races(_attempt_begin_attempt)


def _attempt_requeue(ctx: WorkflowContext, photo_id: str) -> PhotoView:
    """A failed photo goes back to queued (the client retried the upload); other states are kept."""
    with ctx.uow() as uow:
        row = _photo(uow, photo_id)
        if row.status == PhotoStatus.FAILED.value:
            row.status = PhotoStatus.QUEUED.value
            row.updated_at = ctx.clock.now()
        view = PhotoView.of(row)
        uow.commit()
        return view


requeue = retry_races(_attempt_requeue)


def failed_photos(
    ctx: WorkflowContext, *, max_attempts: int, quiet_for: timedelta, limit: int = 20
) -> list[PhotoView]:
    """Failed photos worth another attempt: fewer than ``max_attempts`` so far and none for ``quiet_for``
    (oldest first), so an acknowledged upload whose analysis met an outage is analysed once it is over."""
    cutoff = ctx.clock.now() - quiet_for
    with ctx.uow() as uow:
        rows = uow.session.scalars(
            select(PhotoRow)
            .where(
                PhotoRow.status == PhotoStatus.FAILED.value,
                PhotoRow.attempts < max_attempts,
                PhotoRow.updated_at <= cutoff,
            )
            # Equivalent without it: rows filtered by status come off ix_photos_status_received in this
            # order on both databases. Kept so that no other plan can change the sweep's order.
            .order_by(PhotoRow.received_at)  # pragma: no mutate
            .limit(limit)
        )
        return [PhotoView.of(r) for r in rows]


def stuck_photos(ctx: WorkflowContext, *, quiet_for: timedelta, limit: int = 20) -> list[PhotoView]:
    """Photos queued with nothing heard of them for ``quiet_for``: their task was lost (a broker restarted
    without persistence, a worker killed mid-task). Oldest first; running them again is harmless (the
    analysis of a done photo is a no-op and its observations have fixed ids)."""
    cutoff = ctx.clock.now() - quiet_for
    with ctx.uow() as uow:
        rows = uow.session.scalars(
            select(PhotoRow)
            .where(PhotoRow.status == PhotoStatus.QUEUED.value, PhotoRow.updated_at <= cutoff)
            # Equivalent without it: rows filtered by status come off ix_photos_status_received in this
            # order on both databases. Kept so that no other plan can change the sweep's order.
            .order_by(PhotoRow.received_at)  # pragma: no mutate
            .limit(limit)
        )
        return [PhotoView.of(r) for r in rows]


def _attempt_record_result(
    ctx: WorkflowContext, photo_id: str, analysis: PhotoAnalysis, annotated_key: str | None
) -> PhotoView:
    with ctx.uow() as uow:
        row = _photo(uow, photo_id)
        row.status = PhotoStatus.DONE.value
        row.result = _dump_analysis(analysis)
        row.annotated_key = annotated_key
        row.error = None
        row.updated_at = ctx.clock.now()
        view = PhotoView.of(row)
        uow.commit()
        return view


record_result = retry_races(_attempt_record_result)


def _attempt_record_failure(ctx: WorkflowContext, photo_id: str, error: str) -> PhotoView:
    """The original stays stored and recorded; the photo can be retried (re-upload or task retry)."""
    with ctx.uow() as uow:
        row = _photo(uow, photo_id)
        if row.status != PhotoStatus.DONE.value:  # a late failure never hides a finished result
            row.status = PhotoStatus.FAILED.value
            row.error = error[:_MAX_ERROR_CHARS]
            row.updated_at = ctx.clock.now()
        view = PhotoView.of(row)
        uow.commit()
        return view


record_failure = retry_races(_attempt_record_failure)


def _photo(uow: UnitOfWork, photo_id: str) -> PhotoRow:
    row = uow.session.get(PhotoRow, photo_id)
    if row is None:
        raise NotFound(f"photo {photo_id[:80]!r} not found")
    return row


# --- detection review ----------------------------------------------------------------------------


def review_queue(ctx: WorkflowContext, limit: int) -> list[PhotoView]:
    """Analysed photos nobody has reviewed yet, newest first."""
    if not 1 <= limit <= 500:
        raise InvalidInput("limit must be 1–500")
    with ctx.uow() as uow:
        reviewed = select(PhotoReviewRow.photo_id)
        stmt = (
            select(PhotoRow)
            .where(PhotoRow.status == PhotoStatus.DONE.value, PhotoRow.photo_id.not_in(reviewed))
            .order_by(PhotoRow.received_at.desc(), PhotoRow.photo_id)
            .limit(limit)
        )
        return [PhotoView.of(r) for r in uow.session.scalars(stmt)]


def _attempt_save_review(
    ctx: WorkflowContext, photo_id: str, boxes: Sequence[ReviewedBox], note: str | None, reviewer: str
) -> ReviewView:
    """Store the confirmed/corrected boxes for a photo (a second review replaces the first)."""
    if len(boxes) > MAX_REVIEW_BOXES:
        raise InvalidInput(f"at most {MAX_REVIEW_BOXES} boxes per photo")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        photo = _photo(uow, photo_id)
        clean = tuple(_checked_box(b, photo.width, photo.height) for b in boxes)
        payload = json.dumps([{"label": b.label, "box": list(b.box)} for b in clean])
        row = uow.session.get(PhotoReviewRow, photo_id)
        if row is None:
            row = PhotoReviewRow(photo_id=photo_id)
            uow.session.add(row)
        row.detections, row.note, row.reviewed_by, row.reviewed_at = payload, note, reviewer, now
        uow.repo.append_audit(
            now, reviewer, "photo.reviewed", "photo", photo_id, canonical_payload({"boxes": len(clean)})
        )
        view = _review_view(row, photo)
        uow.commit()
        return view


save_review = retry_races(_attempt_save_review)


def list_reviews(ctx: WorkflowContext, limit: int, offset: int = 0) -> list[ReviewView]:
    """Reviewed photos in review order (stable paging for the training export)."""
    if not 1 <= limit <= 10_000 or offset < 0:
        raise InvalidInput("limit must be 1–10000 and offset ≥ 0")
    with ctx.uow() as uow:
        stmt = (
            select(PhotoReviewRow, PhotoRow)
            .join(PhotoRow, PhotoRow.photo_id == PhotoReviewRow.photo_id)  # pragma: no mutate (the FK's join)
            .order_by(PhotoReviewRow.reviewed_at, PhotoReviewRow.photo_id)
            .limit(limit)
            .offset(offset)
        )
        return [_review_view(review, photo) for review, photo in uow.session.execute(stmt).all()]


def _checked_box(item: ReviewedBox, width: int, height: int) -> ReviewedBox:
    label = item.label.strip()
    if not label or len(label) > 64:
        raise InvalidInput("each box needs a label of 1–64 characters")
    x1, y1, x2, y2 = item.box
    if not all(math.isfinite(v) for v in item.box) or x2 <= x1 or y2 <= y1:
        raise InvalidInput(f"box {list(item.box)} must be finite x1, y1, x2, y2 with x2 > x1 and y2 > y1")
    if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
        raise InvalidInput(f"box {list(item.box)} lies outside the {width}×{height} image")
    return ReviewedBox(label, (float(x1), float(y1), float(x2), float(y2)))


def _review_view(review: PhotoReviewRow, photo: PhotoRow) -> ReviewView:
    boxes = tuple(ReviewedBox(str(d["label"]), _box(d["box"])) for d in json.loads(review.detections))
    return ReviewView(
        photo.photo_id, photo.original_key, photo.width, photo.height, boxes, review.note,
        review.reviewed_by, review.reviewed_at,
    )  # fmt: skip


# --- JSON text of an analysis --------------------------------------------------------------------


def _box(raw: Any) -> Box:
    x1, y1, x2, y2 = (float(v) for v in raw)
    return (x1, y1, x2, y2)


def _dump_analysis(a: PhotoAnalysis) -> str:
    return json.dumps(
        {
            "models": list(a.models),
            "people": a.people,
            "detections": [
                {"label": d.label, "confidence": d.confidence, "box": list(d.box), "model": d.model}
                for d in a.detections
            ],
            "findings": [
                {"kind": f.kind, "confidence": f.confidence, "box": list(f.box)} for f in a.findings
            ],
            "hazards": [{"hazard_id": h.hazard_id, "outcome": h.outcome} for h in a.hazards],
        }
    )


def _load_analysis(text: str) -> PhotoAnalysis:
    raw = json.loads(text)
    return PhotoAnalysis(
        models=tuple(str(m) for m in raw["models"]),
        detections=tuple(
            PhotoDetection(str(d["label"]), float(d["confidence"]), _box(d["box"]), str(d["model"]))
            for d in raw["detections"]
        ),
        findings=tuple(
            PhotoFinding(str(f["kind"]), float(f["confidence"]), _box(f["box"])) for f in raw["findings"]
        ),
        hazards=tuple(PhotoHazardLink(int(h["hazard_id"]), str(h["outcome"])) for h in raw["hazards"]),
        people=int(raw.get("people", 0)),
    )
