"""Watched regions on live cameras: each snapshot of a camera with ``watch`` regions feeds its
``vision.watch.RegionWatcher``; a suspected leak becomes a camera observation (de-duplicated into one
hazard like any camera finding) with the region's reference and current appearance side by side as
evidence, graded by the region's kind; a changed view is a camera-health alert, never a leak.

Occluders are the people the latest inspection of the camera saw (in this process); with inspections on
other workers the persistence alone keeps passers-by out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from cameras.config import CameraConfig
from cameras.snapshot import Snapshot
from serving.bootstrap import Container
from serving.pipelines.camera_inspect import Inspection, announce
from serving.pipelines.presence import observation_id
from vision.detections import Box
from vision.images import encode_jpeg
from vision.watch import EventKind, RegionKind, RegionWatcher, WatchSettings
from workflow.domain.observations import Observation, SourceKind

log = logging.getLogger(__name__)

LEAK_SUSPECTED = EventKind.LEAK_SUSPECTED.value
# Severity of a suspected leak by what leaks (1-5, the risk matrix's axis); likelihood 3: it is a
# suspicion until someone looks.
_SEVERITY = {
    RegionKind.PUMP_SEAL: 4,
    RegionKind.FLANGE: 3,
    RegionKind.VALVE: 3,
    RegionKind.PIPE_RUN: 3,
    RegionKind.FLOOR: 2,
}
# A change that held for minutes in a watched region: the observation is certain, its cause is not.
_CONFIDENCE = 0.8


@dataclass(frozen=True, slots=True)
class ViewChanged:
    camera_id: str
    message: str


class WatchedRegions:
    def __init__(self, container: Container, cameras: Sequence[CameraConfig]) -> None:
        self._c = container
        settings = WatchSettings(persist_s=container.settings.monitor.watch_persist_s)
        self._cameras = {camera.id: camera for camera in cameras if camera.watch}
        self._watchers = {
            camera.id: RegionWatcher([r.region() for r in camera.watch], settings)
            for camera in self._cameras.values()
        }
        self._people: dict[str, tuple[Box, ...]] = {}

    def on_inspection(self, inspection: Inspection) -> None:
        self._people[inspection.camera_id] = inspection.people_boxes

    def on_snapshot(self, snapshot: Snapshot, snapshot_key: str) -> list[ViewChanged]:
        """Feed one clean snapshot; suspected leaks are filed here, view changes returned to alert on."""
        watcher = self._watchers.get(snapshot.camera_id)
        if watcher is None:
            return []
        camera = self._cameras[snapshot.camera_id]
        try:
            events = watcher.feed(
                snapshot.frame, snapshot.captured_at.timestamp(), self._people.get(camera.id, ())
            )
        except ValueError as exc:  # a region outside this camera's frames: a config error, said once
            log.error("camera %s: watched regions disabled: %s", camera.id, exc)
            del self._watchers[camera.id]
            return [ViewChanged(camera.id, f"camera {camera.id}: watched regions disabled: {exc}")]
        changed: list[ViewChanged] = []
        for event in events:
            if event.kind is EventKind.VIEW_CHANGED:
                changed.append(
                    ViewChanged(camera.id, f"camera {camera.id}: the view changed ({event.score:.2f})")
                )
                continue
            self._file(camera, watcher, event.region, event.score, snapshot, snapshot_key)
        return changed

    def _file(
        self,
        camera: CameraConfig,
        watcher: RegionWatcher,
        region_name: str,
        score: float,
        snapshot: Snapshot,
        snapshot_key: str,
    ) -> None:
        region = next(r for r in camera.watch if r.name == region_name)
        side = encode_jpeg(watcher.side_by_side(region_name, snapshot.frame))
        side_key = self._c.objects.put(side, content_type="image/jpeg").key
        at = snapshot.captured_at
        obs = Observation(
            observation_id=observation_id("watch", camera.id, region_name, at.isoformat()),
            kind=LEAK_SUSPECTED,
            confidence=_CONFIDENCE,
            zone=camera.zone,
            source_kind=SourceKind.CAMERA,
            source_id=camera.id,
            observed_at=at,
            evidence_keys=(snapshot_key, side_key),
            box=region.box,
            equipment_id=region_name,  # the watched thing: a second leak there reopens its hazard
            likelihood=3,
            severity=_SEVERITY[region.kind],
            description=f"{region.kind.value} {region_name}: changed for minutes (score {score:.2f})",
        )
        result = self._c.intake.ingest([obs])[0]
        log.warning("camera %s region %s: suspected leak → %s", camera.id, region_name, result.status.value)
        announce(self._c, obs, result)
