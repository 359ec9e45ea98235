"""The inspector photo pipeline: upload → intake → durable original → detectors → hazards.

``accept`` runs in the API request: it checks the upload, stores the metadata-free original under its
content hash *before* anything is recorded, records the photo as queued, and dispatches the analysis.
``inspect`` is the task body (``photo.inspect``): the same function runs inside the request on the
embedded profile and in ``hazardeye worker`` with Celery. Both are idempotent: the photo id is the
content hash, observation ids derive from it, and the annotated image is content-addressed too.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import InterfaceError, OperationalError

from cameras.photos import IntakeLimits, IntakePhoto, PhotoRejected, intake_photo
from serving.bootstrap import Container
from serving.objects.port import ObjectStoreUnavailableError
from serving.pipelines.detection import ImageAnalysis
from serving.pipelines.ppe_zones import frame_requirements
from serving.settings import InlineTaskSettings
from serving.tasks.port import TaskQueueUnavailableError, TaskSpec
from vision.images import decode_scaled, encode_jpeg
from vision.ppe import workers
from vision.privacy import blur_regions
from workflow.domain.errors import ConcurrencyConflict, InvalidInput
from workflow.domain.observations import PPE_OK_KIND, IngestResult, Observation, SourceKind
from workflow.services.hazards import ingest_observations
from workflow.services.photos import (
    NewPhoto,
    PhotoAnalysis,
    PhotoDetection,
    PhotoFinding,
    PhotoHazardLink,
    PhotoStatus,
    PhotoView,
    begin_attempt,
    failed_photos,
    find_upload,
    get_photo,
    record_failure,
    record_result,
    record_upload,
    requeue,
    stuck_photos,
)
from workflow.services.seals import seal_object

log = logging.getLogger(__name__)
_INLINE_ATTEMPTS = 3
# Failures that say nothing about the photo: a concurrent write won, or a dependency is restarting.
_TRANSIENT = (ConcurrencyConflict, OperationalError, InterfaceError, ObjectStoreUnavailableError)

TASK_NAME = "photo.inspect"
# Declared upload types we accept; the format itself is always sniffed from the bytes.
_GENERIC_TYPES = frozenset({"", "application/octet-stream"})


class InspectPhoto(BaseModel):
    """Task payload: the photo to analyse (everything else is in its database record)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    photo_id: str = Field(pattern=r"^[0-9a-f]{64}$")


class UnsupportedMediaTypeError(PhotoRejected):
    """The declared content type is not an image type (answered 415, not 422)."""


@dataclass(frozen=True, slots=True)
class PhotoUpload:
    data: bytes
    filename: str
    content_type: str | None
    zone: str
    uploaded_by: str
    area: str | None = None
    equipment_id: str | None = None
    description: str | None = None
    lat: float | None = None
    lon: float | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    photo: PhotoView
    replay: bool  # an earlier upload of the same bytes or Idempotency-Key


class PhotoPipeline:
    def __init__(self, container: Container) -> None:
        self._c = container
        self.inline = isinstance(container.settings.tasks, InlineTaskSettings)

    # --- request side --------------------------------------------------------------------------------

    def accept(self, upload: PhotoUpload) -> Accepted:
        """Validate, store the original, record and dispatch; raises before anything is recorded."""
        _check_fields(upload)
        if not upload.data:
            raise PhotoRejected(f"{upload.filename}: empty upload")
        upload_sha = hashlib.sha256(upload.data).hexdigest()
        ctx = self._c.workflow
        prior = find_upload(ctx, upload_sha, upload.idempotency_key, upload.uploaded_by)
        if prior is not None:
            if prior.upload_sha256 != upload_sha:
                raise ConcurrencyConflict("this Idempotency-Key was already used for a different photo")
            return Accepted(self._dispatch_replay(prior.photo), replay=True)
        intake = intake_upload(self._c, upload.data, upload.filename, upload.content_type)
        original_key = self._store(intake.stored_bytes, intake.stored_media_type)
        if self._c.settings.privacy.blurs(upload.zone):  # nobody else sees it before its faces are blurred
            seal_object(ctx, original_key, upload.zone)
        view, created = record_upload(ctx, _new_photo(upload, intake, original_key), upload.idempotency_key)
        if not created:
            return Accepted(self._dispatch_replay(view), replay=True)
        return Accepted(self._dispatch(view), replay=False)

    def _store(self, data: bytes, media_type: str) -> str:
        return store_object(self._c, data, media_type)

    def _dispatch_replay(self, view: PhotoView) -> PhotoView:
        if view.status is PhotoStatus.FAILED:
            return self._dispatch(requeue(self._c.workflow, view.photo_id))
        if view.status is PhotoStatus.QUEUED and self.inline:
            # Inline work never outlives its request, so a queued photo's request died: finish it.
            return self._dispatch(view)
        return view

    def _dispatch(self, view: PhotoView) -> PhotoView:
        if self.inline:
            return self.inspect_or_fail(view.photo_id)
        # One task id per attempt series: a redelivery reuses it, a retry after failure gets a new one.
        try:
            self._c.tasks.submit(TASK_NAME, InspectPhoto(photo_id=view.photo_id), key=_task_key(view))
        except TaskQueueUnavailableError as exc:
            # The photo is stored and recorded: marked failed (visible), the sweep queues it again.
            log.warning("photo %s not queued: %s", view.photo_id, exc)
            return record_failure(self._c.workflow, view.photo_id, f"analysis not queued yet: {exc}")
        return view

    # --- task side -----------------------------------------------------------------------------------

    def inspect_or_fail(self, photo_id: str) -> PhotoView:
        """``inspect`` for callers that want the recorded outcome rather than an exception. A transient
        failure (a write conflict, the database or object store just restarting) is retried at once a
        few times; what still fails is recorded and retried by the sweep (``retry_failed``)."""
        for attempt in range(1, _INLINE_ATTEMPTS + 1):
            try:
                return self.inspect(photo_id)
            except _TRANSIENT as exc:
                log.warning("photo %s analysis attempt %d failed: %s", photo_id, attempt, exc)
                if attempt < _INLINE_ATTEMPTS:
                    time.sleep(0.25 * 2 ** (attempt - 1))
            except Exception:
                log.exception("photo %s analysis failed", photo_id)
                break
        return get_photo(self._c.workflow, photo_id)

    def retry_failed(self) -> int:
        """Dispatch failed photos, and queued ones whose task was lost, again (the sweep calls this);
        returns how many were dispatched."""
        settings = self._c.settings.photos
        retried = failed_photos(
            self._c.workflow,
            max_attempts=settings.max_attempts,
            quiet_for=timedelta(seconds=settings.retry_after_s),
        )
        for photo in retried:
            self._dispatch(requeue(self._c.workflow, photo.photo_id))
        stuck = stuck_photos(self._c.workflow, quiet_for=timedelta(seconds=settings.stuck_after_s))
        for photo in stuck:
            log.warning(
                "photo %s received %s, still queued: dispatched again", photo.photo_id, photo.received_at
            )
            self._dispatch(photo)
        return len(retried) + len(stuck)

    def inspect(self, photo_id: str) -> PhotoView:
        """Analyse one stored photo and file its findings; a finished photo is returned unchanged."""
        ctx = self._c.workflow
        photo = begin_attempt(ctx, photo_id)
        if photo.status is PhotoStatus.DONE:
            return photo
        try:
            data = self._c.objects.get(photo.original_key)
            settings = self._c.settings.photos
            with self._c.decodes.hold(f"photo {photo_id[:12]}"):
                decoded = decode_scaled(
                    data, source=photo_id, max_pixels=settings.max_pixels, max_side=settings.analysis_max_side
                )
            requirements = frame_requirements(self._c.settings.vision, (photo.zone,))
            reduced = self._c.analyzer.analyze(decoded.image, requirements)
            privacy = self._c.settings.privacy
            blur = privacy.blurs(photo.zone)
            faces = self._c.analyzer.faces(decoded.image, reduced, privacy.detection_floor) if blur else []
            drawn = reduced.annotated(decoded.image, self._c.settings.vision.label_language, faces)
            annotated_key = self._store(encode_jpeg(drawn), "image/jpeg")
            if blur:  # the original stays sealed evidence; others see its copy with the faces blurred
                display_key = self._store(encode_jpeg(blur_regions(decoded.image, faces)), "image/jpeg")
                seal_object(ctx, photo.original_key, photo.zone, display_key)
            analysis = reduced.rescaled(decoded.scale_x, decoded.scale_y)  # boxes in the original's pixels
            observations = photo_observations(
                photo, analysis, (photo.original_key, annotated_key), ctx.clock.now()
            )
            results = ingest_observations(ctx, observations)
            return record_result(ctx, photo_id, photo_analysis(analysis, results), annotated_key)
        except Exception as exc:
            try:
                record_failure(ctx, photo_id, f"{type(exc).__name__}: {exc}")
            except Exception:  # the database is what failed: the task retry will record it later
                log.exception("could not record the failure of photo %s", photo_id)
            raise

    def handle(self, payload: InspectPhoto) -> None:
        self.inspect(payload.photo_id)


def register_tasks(container: Container) -> None:
    """Register this pipeline's background tasks on ``container.task_registry``."""
    pipeline = PhotoPipeline(container)
    container.task_registry.register(
        TaskSpec(TASK_NAME, InspectPhoto, pipeline.handle, max_retries=3, backoff_s=2.0, backoff_max_s=60.0)
    )


def store_object(container: Container, data: bytes, media_type: str) -> str:
    """Durably store ``data`` under its content hash; an unreachable store is always the port's error."""
    try:
        return container.objects.put(data, content_type=media_type).key
    except OSError as exc:  # the local folder is gone or read-only: same meaning as S3 down
        raise ObjectStoreUnavailableError(f"object store: {exc}") from exc


def intake_upload(container: Container, data: bytes, filename: str, content_type: str | None) -> IntakePhoto:
    """Check the declared type and the bytes of an uploaded photo (``PhotoRejected`` when unusable)."""
    _check_media_type(filename, content_type)
    if not data:
        raise PhotoRejected(f"{filename}: empty upload")
    settings = container.settings.photos
    limits = IntakeLimits(settings.max_bytes, settings.max_pixels, settings.strip_exif)
    with container.decodes.hold(filename):
        return intake_photo(data, source=filename, limits=limits)


def _task_key(view: PhotoView) -> str:
    # The record's arrival time is part of the id: the result backend outlives databases (a restored or
    # recreated one, a second deployment on the same Redis), and a known id is never sent again.
    received = int(view.received_at.timestamp() * 1_000_000)
    return f"photo-{view.photo_id}-{received}-{view.attempts}"


_LIMITS = {"zone": 64, "area": 100, "equipment_id": 100, "description": 4000}


def _check_media_type(filename: str, content_type: str | None) -> None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in _GENERIC_TYPES and not media.startswith("image/"):
        raise UnsupportedMediaTypeError(f"{filename}: content type {media!r} is not an image type")


def _check_fields(upload: PhotoUpload) -> None:
    _check_media_type(upload.filename, upload.content_type)
    if not upload.zone.strip():
        raise InvalidInput("zone must not be empty")
    for name, limit in _LIMITS.items():
        value = getattr(upload, name)
        if value is not None and len(value) > limit:
            raise InvalidInput(f"{name} must be at most {limit} characters")
    if (upload.lat is None) != (upload.lon is None):
        raise InvalidInput("send both lat and lon, or neither")
    if (
        upload.lat is not None
        and upload.lon is not None
        and not (-90.0 <= upload.lat <= 90.0 and -180.0 <= upload.lon <= 180.0)
    ):
        raise InvalidInput(f"GPS position ({upload.lat}, {upload.lon}) is out of range")


def _new_photo(upload: PhotoUpload, intake: IntakePhoto, original_key: str) -> NewPhoto:
    lat, lon = upload.lat, upload.lon
    if lat is None and intake.gps is not None:  # browser GPS first, the photo's own EXIF GPS otherwise
        lat, lon = intake.gps.latitude, intake.gps.longitude
    return NewPhoto(
        photo_id=original_key,
        upload_sha256=intake.sha256,
        original_key=original_key,
        media_type=intake.stored_media_type,
        width=intake.width,
        height=intake.height,
        taken_at=intake.captured_at.isoformat() if intake.captured_at else None,
        gps_lat=lat,
        gps_lon=lon,
        zone=upload.zone.strip(),
        area=_blank_to_none(upload.area),
        equipment_id=_blank_to_none(upload.equipment_id),
        description=_blank_to_none(upload.description),
        uploaded_by=upload.uploaded_by,
    )


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def observed_at(photo: PhotoView, now: datetime) -> datetime:
    """When the photo was taken if its EXIF time is zone-aware and not in the future, else when received."""
    if photo.taken_at:
        taken = datetime.fromisoformat(photo.taken_at)
        if taken.tzinfo is not None and taken <= now:
            return taken
    return photo.received_at


def photo_observations(
    photo: PhotoView, analysis: ImageAnalysis, evidence: tuple[str, ...], now: datetime
) -> list[Observation]:
    """One observation per finding, plus one ``ppe.ok`` per person wearing a helmet (PPE compliance KPI).

    Ids derive from the photo id and the position, so re-running the analysis files nothing twice.
    """
    at = observed_at(photo, now)
    common = {
        "zone": photo.zone,
        "source_kind": SourceKind.PHOTO,
        "source_id": photo.photo_id,
        "observed_at": at,
        "area": photo.area,
        "equipment_id": photo.equipment_id,
        "reported_by": photo.uploaded_by,
    }
    out = [
        Observation(
            observation_id=f"photo:{photo.photo_id}:{i}",
            kind=f.kind,
            confidence=min(max(float(f.confidence), 0.0), 1.0),
            evidence_keys=evidence,
            box=f.box,
            description=photo.description,
            **common,  # type: ignore[arg-type]
        )
        for i, f in enumerate(analysis.findings)
    ]
    compliant = [
        w
        for run in analysis.runs
        if "helmet" in run.detections.class_names
        for w in workers(run.detections)
        if w.wearing_helmet
    ]
    out += [
        Observation(
            observation_id=f"photo:{photo.photo_id}:ok{i}",
            kind=PPE_OK_KIND,
            confidence=min(max(w.confidence, 0.0), 1.0),
            box=w.head_box,
            **common,  # type: ignore[arg-type]
        )
        for i, w in enumerate(compliant)
    ]
    return out


def photo_analysis(analysis: ImageAnalysis, results: list[IngestResult]) -> PhotoAnalysis:
    detections = tuple(
        PhotoDetection(run.detections.label(i), round(float(run.detections.confidences[i]), 4),
                       _rounded(run.detections.box(i)), run.model)
        for run in analysis.runs
        for i in range(len(run.detections))
    )  # fmt: skip
    findings = tuple(PhotoFinding(f.kind, round(f.confidence, 4), _rounded(f.box)) for f in analysis.findings)
    links: dict[int, str] = {}
    for result in results:  # several findings may land in one hazard: report it once, first outcome
        if result.hazard_id is not None:
            links.setdefault(result.hazard_id, result.status.value)
    hazards = tuple(PhotoHazardLink(h, outcome) for h, outcome in links.items())
    return PhotoAnalysis(analysis.models, detections, findings, hazards, analysis.people)


def _rounded(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (round(float(v), 1) for v in box)
    return (x1, y1, x2, y2)
