"""Watched regions on live cameras: each snapshot of a camera with watched regions feeds its
``vision.watch.RegionWatcher``; a suspected leak becomes a camera observation (de-duplicated into one
hazard like any camera finding) with the region's reference and current appearance side by side as
evidence, graded by the region's kind; a changed view is a camera-health alert, never a leak.

A camera's regions are the ones set through the API (``workflow.services.watch_regions``) when there are
any, else its camera file's ``watch``; the stored ones are re-read every ``REFRESH_S`` (one query for all
cameras), and only a camera whose regions changed gets a new watcher.

Occluders are the people the latest inspection of the camera saw (in this process); with inspections on
other workers the persistence alone keeps passers-by out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from cameras.config import CameraConfig, WatchRegionConfig
from cameras.snapshot import Snapshot
from serving.bootstrap import Container
from serving.kind_labels import evidence_panels, region_kind_words
from serving.pipelines.camera_inspect import Inspection, announce
from serving.pipelines.presence import observation_id
from vision.detections import Box
from vision.images import encode_jpeg
from vision.watch import EventKind, RegionKind, RegionWatcher, WatchSettings
from workflow.domain.observations import Observation, SourceKind
from workflow.services.watch_regions import StoredWatch, stored_watch_regions

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
# Regions set through the API reach the cameras within this many seconds (one query for all cameras).
REFRESH_S = 10.0


@dataclass(frozen=True, slots=True)
class ViewChanged:
    camera_id: str
    message: str


@dataclass(frozen=True, slots=True)
class _Watch:
    """What one camera watches: its regions in effect and their watcher (None: no regions, or disabled
    by a config error until the regions change)."""

    regions: tuple[WatchRegionConfig, ...]
    watcher: RegionWatcher | None


class WatchedRegions:
    def __init__(
        self,
        container: Container,
        cameras: Sequence[CameraConfig],
        *,
        refresh_s: float = REFRESH_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._c = container
        self._settings = WatchSettings(persist_s=container.settings.monitor.watch_persist_s)
        # Every camera: one without ``watch`` in its file may have regions set through the API.
        self._cameras = {camera.id: camera for camera in cameras}
        self._refresh_s, self._clock = refresh_s, clock
        self._stored: dict[str, tuple[WatchRegionConfig, ...]] = {}  # camera id → regions set via the API
        self._read_at: float | None = None
        self._reading = threading.Lock()
        # Written only by the camera's own worker thread (on_snapshot), so a watcher is never swapped
        # under a feed in progress.
        self._watching: dict[str, _Watch] = {}
        self._people: dict[str, tuple[Box, ...]] = {}

    def on_inspection(self, inspection: Inspection) -> None:
        self._people[inspection.camera_id] = inspection.people_boxes

    def on_snapshot(self, snapshot: Snapshot, snapshot_key: str) -> list[ViewChanged]:
        """Feed one clean snapshot; suspected leaks are filed here, view changes returned to alert on."""
        camera = self._cameras.get(snapshot.camera_id)
        if camera is None:
            return []
        self._refresh()
        watch = self._watch_of(camera)
        if watch.watcher is None:
            return []
        try:
            events = watch.watcher.feed(
                snapshot.frame, snapshot.captured_at.timestamp(), self._people.get(camera.id, ())
            )
        except ValueError as exc:  # a region outside this camera's frames: a config error, said once
            log.error("camera %s: watched regions disabled: %s", camera.id, exc)
            self._watching[camera.id] = _Watch(watch.regions, None)  # until its regions change
            return [ViewChanged(camera.id, f"camera {camera.id}: watched regions disabled: {exc}")]
        changed: list[ViewChanged] = []
        for event in events:
            if event.kind is EventKind.VIEW_CHANGED:
                changed.append(
                    ViewChanged(camera.id, f"camera {camera.id}: the view changed ({event.score:.2f})")
                )
                continue
            self._file(camera, watch, event.region, event.score, snapshot, snapshot_key)
        return changed

    def _watch_of(self, camera: CameraConfig) -> _Watch:
        regions = self._stored.get(camera.id, camera.watch)
        watch = self._watching.get(camera.id)
        if watch is not None and watch.regions == regions:
            return watch
        # A new watcher knows nothing of the scene yet: it relearns each region's reference (and the
        # whole view's) from the camera's next frames, as at start-up, before it can raise anything.
        watcher = RegionWatcher([r.region() for r in regions], self._settings) if regions else None
        if watch is not None:
            log.info("camera %s: now watching %d region(s)", camera.id, len(regions))
        self._watching[camera.id] = watch = _Watch(regions, watcher)
        return watch

    def _refresh(self) -> None:
        """Re-read the regions set through the API, at most every ``refresh_s`` (the first snapshot waits
        for the first read; later ones never wait for another camera's)."""
        now = self._clock()
        if self._read_at is not None and now - self._read_at < self._refresh_s:
            return
        if not self._reading.acquire(blocking=self._read_at is None):
            return
        try:
            if self._read_at is not None and now - self._read_at < self._refresh_s:
                return  # another camera's thread has just read them
            self._read_at = now
            try:
                stored = stored_watch_regions(self._c.workflow)
            except SQLAlchemyError as exc:  # the database is down: keep watching what we watch
                log.warning("watched regions set through the API not read: %s", exc)
                return
            self._stored = {
                camera_id: regions
                for camera_id, watch in stored.items()
                if camera_id in self._cameras and (regions := _configs(watch)) is not None
            }
        finally:
            self._reading.release()

    def _file(
        self,
        camera: CameraConfig,
        watch: _Watch,
        region_name: str,
        score: float,
        snapshot: Snapshot,
        snapshot_key: str,
    ) -> None:
        assert watch.watcher is not None
        region = next(r for r in watch.regions if r.name == region_name)
        language = self._c.settings.vision.label_language
        panels = evidence_panels(language)
        side = encode_jpeg(watch.watcher.side_by_side(region_name, snapshot.frame, panels))
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
            description=describe(region, watch.watcher.settings.persist_s, score, language),
        )
        result = self._c.intake.ingest([obs])[0]
        log.warning("camera %s region %s: suspected leak → %s", camera.id, region_name, result.status.value)
        announce(self._c, obs, result)


def describe(region: WatchRegionConfig, persist_s: float, score: float, language: str) -> str:
    """A suspected leak in words, in the plant's label language."""
    kind = region_kind_words(region.kind.value, language)
    if language == "zh":
        held = f"{persist_s / 60:g} 分钟" if persist_s >= 60 else f"{persist_s:g} 秒"
        return f"疑似泄漏：{region.name}（{kind}）出现类似泄漏的变化，已持续 {held}，占区域的 {score:.0%}"
    held = f"{persist_s / 60:g} min" if persist_s >= 60 else f"{persist_s:g} s"
    return (
        f"suspected leak at {region.name} ({kind}): a leak-like change held for {held}"
        f" over {score:.0%} of the region"
    )


def _configs(watch: StoredWatch) -> tuple[WatchRegionConfig, ...] | None:
    """The stored regions as the camera file's would be (None, logged, when they no longer validate: the
    camera file's regions apply)."""
    try:
        return tuple(
            WatchRegionConfig(name=r.name, kind=RegionKind(r.kind), points=r.points) for r in watch.regions
        )
    except ValueError as exc:  # pydantic's ValidationError included
        log.error("camera %s: stored watched regions ignored: %s", watch.camera_id, exc)
        return None
