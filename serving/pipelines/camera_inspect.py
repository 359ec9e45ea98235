"""The ``camera.inspect`` task: one stored snapshot → detectors → observations → hazards, permits, alerts.

Runs in the inline pool or a Celery worker, so everything it needs travels in the payload (never the
camera URL: it may carry a password). Idempotent: object keys are content hashes and observation ids
derive from camera id + frame time, so a retried task appends nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from cameras.config import TilingSetting, ZonePolygon
from serving.bootstrap import Container
from serving.bus.local import Fanout
from serving.bus.messages import Alert
from serving.pipelines.detection import Image
from serving.pipelines.ppe_zones import demanded_findings, frame_requirements
from serving.pipelines.presence import (
    PresenceChecker,
    helmet_tally,
    observation_id,
    people_per_zone,
    zone_of_box,
)
from vision.detections import Box, Finding
from vision.images import decode_image, encode_jpeg
from vision.privacy import blur_regions
from workflow.domain.confirmation import ConfirmationRule, Sighting, sighting_key
from workflow.domain.observations import IngestResult, IngestStatus, Observation, SourceKind
from workflow.services.camera_inspections import CameraFinding, CameraInspection, record_inspection
from workflow.services.confirmations import confirm_sighting
from workflow.services.frames import record_frame
from workflow.services.queries import hazard_detail
from workflow.services.seals import seal_object

log = logging.getLogger(__name__)

INSPECT_TASK = "camera.inspect"
_CROP_MARGIN = 0.5  # crop = the finding box grown by half its size on each side: some context shows


class InspectPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    camera_id: str = Field(min_length=1, max_length=64)
    zone: str = Field(min_length=1, max_length=64)
    polygons: tuple[ZonePolygon, ...] = ()
    tiling: TilingSetting = "off"
    snapshot_key: str
    captured_at: datetime
    sequence: int = Field(ge=0)


@dataclass(frozen=True, slots=True)
class Inspection:
    """What one inspection found; the camera board subscribes (in the process that runs the task)."""

    camera_id: str
    at: datetime
    findings: tuple[CameraFinding, ...]
    people: int
    annotated_key: str | None
    results: tuple[IngestResult, ...]
    people_boxes: tuple[Box, ...] = ()  # where people stood (occluders for watched regions)


def best_per_zone(
    findings: Sequence[Finding], polygons: tuple[ZonePolygon, ...], default_zone: str
) -> dict[tuple[str, str], Finding]:
    """One observation per (kind, zone) and frame: the most confident finding stands for the rest, so
    the same violation seen in 30 frames is 30 evidence items of one hazard, not 30 × N."""
    best: dict[tuple[str, str], Finding] = {}
    for finding in findings:
        key = (finding.kind, zone_of_box(finding.box, polygons, default_zone))
        if key not in best or finding.confidence > best[key].confidence:
            best[key] = finding
    return best


class InspectTask:
    """The task handler (a callable object so the monitor can subscribe to its results)."""

    def __init__(self, container: Container) -> None:
        self._c = container
        self.results: Fanout[Inspection] = Fanout()
        monitor = container.settings.monitor
        self.presence = PresenceChecker(
            container.workflow, container.bus, cooldown_s=monitor.presence_cooldown_s
        )
        self._confirmation = ConfirmationRule(monitor.confirm_k, monitor.confirm_n)

    def __call__(self, payload: InspectPayload) -> None:
        c = self._c
        image = decode_image(
            c.objects.get(payload.snapshot_key),
            source=f"camera {payload.camera_id}",
            max_pixels=c.settings.vision.max_image_pixels,
        )
        vision = c.settings.vision
        zones = {payload.zone, *(polygon.name for polygon in payload.polygons)}
        analysis = c.camera_analyzer.analyze(image, frame_requirements(vision, zones), payload.tiling)
        privacy = c.settings.privacy
        blur = privacy.blurs_any(zones)
        faces = c.camera_analyzer.faces(image, analysis, privacy.detection_floor) if blur else []
        annotated = analysis.annotated(image, vision.label_language, faces)
        if blur:  # the snapshot (sealed when stored) gets its face-blurred copy, a frame like any other
            display_key = c.objects.put(
                encode_jpeg(blur_regions(image, faces)), content_type="image/jpeg"
            ).key
            record_frame(c.workflow, display_key, payload.camera_id)
            seal_object(c.workflow, payload.snapshot_key, payload.zone, display_key)
        findings = demanded_findings(
            vision, analysis.findings, lambda f: zone_of_box(f.box, payload.polygons, payload.zone)
        )
        grouped = best_per_zone(findings, payload.polygons, payload.zone)
        seen = Sighting(payload.captured_at, frozenset(sighting_key(kind, zone) for kind, zone in grouped))
        confirmed = confirm_sighting(c.workflow, payload.camera_id, seen, self._confirmation)
        observations = [
            Observation(
                observation_id=observation_id(
                    "cam", payload.camera_id, payload.captured_at.isoformat(), kind, zone
                ),
                kind=kind,
                confidence=min(1.0, max(0.0, float(finding.confidence))),
                zone=zone,
                source_kind=SourceKind.CAMERA,
                source_id=payload.camera_id,
                observed_at=payload.captured_at,
                evidence_keys=(payload.snapshot_key, self._crop(annotated, finding.box)),
                box=finding.box,
                # No description: the kind and the camera (its source) say it, in the reader's language.
            )
            for (kind, zone), finding in sorted(grouped.items())
            if sighting_key(kind, zone) in confirmed
        ]
        results = tuple(c.intake.ingest(observations))
        for obs, result in zip(observations, results, strict=True):
            self._notify(obs, result)
        counts = people_per_zone(analysis, payload.polygons, payload.zone)
        self.presence.check(payload.camera_id, payload.captured_at, counts, (payload.snapshot_key,))
        annotated_key = c.objects.put(encode_jpeg(annotated), content_type="image/jpeg").key
        summaries = tuple(
            CameraFinding(
                f.kind, float(f.confidence), f.box, zone_of_box(f.box, payload.polygons, payload.zone)
            )
            for f in findings
        )
        # For the camera board of an API process elsewhere (Celery), and the frame retention ledger.
        record_inspection(
            c.workflow,
            CameraInspection(
                payload.camera_id,
                payload.captured_at,
                annotated_key,
                sum(counts.values()),
                summaries,
                helmet_tally(vision, analysis, payload.polygons, payload.zone),
            ),
        )
        self.results.emit(
            Inspection(
                payload.camera_id,
                payload.captured_at,
                summaries,
                sum(counts.values()),
                annotated_key,
                results,
                tuple(analysis.person_boxes()),
            )
        )

    def _crop(self, annotated: Image, box: tuple[float, float, float, float]) -> str:
        height, width = annotated.shape[:2]
        x1, y1, x2, y2 = box
        mx, my = (x2 - x1) * _CROP_MARGIN, (y2 - y1) * _CROP_MARGIN
        left, top = max(0, int(x1 - mx)), max(0, int(y1 - my))
        right, bottom = min(width, int(np.ceil(x2 + mx))), min(height, int(np.ceil(y2 + my)))
        crop = annotated[top:bottom, left:right] if right > left and bottom > top else annotated
        return self._c.objects.put(encode_jpeg(np.ascontiguousarray(crop)), content_type="image/jpeg").key

    def _notify(self, obs: Observation, result: IngestResult) -> None:
        announce(self._c, obs, result)


def announce(c: Container, obs: Observation, result: IngestResult) -> None:
    """A new (or reopened) hazard goes out on the bus; appended evidence is not news."""
    if result.hazard_id is None or result.status not in (IngestStatus.CREATED, IngestStatus.REOPENED):
        return
    hazard = hazard_detail(c.workflow, result.hazard_id).hazard
    c.bus.publish_alert(
        Alert(
            alert_id=f"hazard-{hazard.id}-{result.status.value}-{obs.observation_id}"[:128],
            kind=f"hazard.{result.status.value}",
            level=hazard.level.rank + 1,
            message=f"{hazard.level.value} hazard {hazard.id}: {obs.kind} in zone {obs.zone} "
            f"(camera {obs.source_id})",
            created_at=obs.observed_at,
            zone=obs.zone,
        )
    )
