"""Camera monitoring wiring: snapshots → object store → ``camera.inspect`` task; health → board + bus.

``register_tasks`` (called by ``serving.tasks.handlers`` in the API process and in ``hazardeye worker``)
registers the task; ``CameraMonitor`` (started by ``hazardeye serve``) polls this process's shard of the
cameras and keeps the ``CameraBoard`` the API reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from cameras.config import CameraConfig, load_cameras
from cameras.health import HealthEvent, StateChange, StreamState
from cameras.scheduler import CameraScheduler
from cameras.snapshot import Snapshot
from serving.bootstrap import Container
from serving.bus.messages import Alert
from serving.pipelines.camera_board import CameraBoard
from serving.pipelines.camera_inspect import (
    INSPECT_TASK,
    Inspection,
    InspectPayload,
    InspectTask,
)
from serving.pipelines.watched_regions import WatchedRegions
from serving.tasks.port import TaskSpec, UnknownTaskError
from vision.images import encode_jpeg
from workflow.domain.camera_alerts import CameraAlertKind, PictureFaults, alert_for
from workflow.services.camera_alerts import CameraAlertIn, record_camera_alert
from workflow.services.frames import record_frame
from workflow.services.seals import seal_object

log = logging.getLogger(__name__)

_STATE_LEVEL = {StreamState.OFFLINE: 2, StreamState.DEGRADED: 1}


def register_tasks(container: Container) -> None:
    """Register this pipeline's background tasks on ``container.task_registry``."""
    container.task_registry.register(
        TaskSpec(INSPECT_TASK, InspectPayload, InspectTask(container), max_retries=3, backoff_s=1.0)
    )


def inspect_task(container: Container) -> InspectTask | None:
    """The registered handler object in this process (None when ``register_tasks`` was not called)."""
    try:
        handler = container.task_registry.get(INSPECT_TASK).handler
    except UnknownTaskError:
        return None
    return handler if isinstance(handler, InspectTask) else None


class CameraMonitor:
    def __init__(
        self,
        container: Container,
        cameras: Sequence[CameraConfig],
        *,
        board: CameraBoard | None = None,
        grace_s: float = 10.0,
        max_pending: int | None = None,
    ) -> None:
        self._c = container
        settings = container.settings.cameras
        self._scheduler = CameraScheduler(
            cameras,
            self._on_snapshot,
            on_event=self._on_health,
            shard_index=settings.shard_index,
            shard_count=settings.shard_count,
            grace_s=grace_s,
        )
        self.cameras = {camera.id: camera for camera in self._scheduler.cameras}
        self.board = board if board is not None else CameraBoard()
        for camera in self._scheduler.cameras:
            self.board.add(camera)
        # Beyond this many queued tasks, frames only refresh the board: inference is the bottleneck
        # and a growing backlog would make every finding late.
        self._max_pending = max_pending if max_pending is not None else 4 * max(1, len(self.cameras)) + 4
        self._pictures = PictureFaults(container.settings.monitor.picture_alert_after_s)
        self._regions = WatchedRegions(container, self._scheduler.cameras)
        task = inspect_task(container)
        self._unsubscribe = task.results.subscribe(self._on_inspection) if task is not None else None

    def start(self) -> None:
        self._scheduler.start()

    def stop(self, timeout_s: float = 15.0) -> bool:
        if self._unsubscribe is not None:
            self._unsubscribe()
        return self._scheduler.stop(timeout_s)

    def _on_snapshot(self, snapshot: Snapshot) -> None:
        picture = self._pictures.observe(
            snapshot.camera_id, (f.value for f in snapshot.flags), time.monotonic()
        )
        if picture is not None:
            faults = ", ".join(sorted(f.value for f in snapshot.flags)) or "good frame"
            message = f"camera {snapshot.camera_id}: picture {faults} (stream up)"
            self._alert(snapshot.camera_id, picture, message, snapshot.captured_at)
        if not snapshot.is_evidence:  # frozen/black frames only feed health (and the picture alerts)
            return
        camera = self.cameras[snapshot.camera_id]
        key = self._c.objects.put(encode_jpeg(snapshot.frame), content_type="image/jpeg").key
        record_frame(self._c.workflow, key, camera.id)  # for retention, unless it becomes evidence
        for changed in self._regions.on_snapshot(snapshot, key):
            self._alert(
                camera.id,
                CameraAlertKind.VIEW_CHANGED,
                changed.message,
                snapshot.captured_at,
            )
        if self._c.settings.privacy.blurs_any((camera.zone, *(p.name for p in camera.polygons))):
            seal_object(self._c.workflow, key, camera.zone)  # shown blurred once inspected, never before
        height, width = snapshot.frame.shape[:2]
        self.board.on_snapshot(camera.id, key, snapshot.captured_at, size=(width, height))
        if self._c.tasks.queue_depth() >= self._max_pending:
            log.warning("inspection backlog: camera %s frame %d not inspected", camera.id, snapshot.sequence)
            return
        payload = InspectPayload(
            camera_id=camera.id,
            zone=camera.zone,
            polygons=camera.polygons,
            tiling=camera.tiling,
            snapshot_key=key,
            captured_at=snapshot.captured_at,
            sequence=snapshot.sequence,
        )
        self._c.tasks.submit(
            INSPECT_TASK, payload, key=f"{INSPECT_TASK}:{camera.id}:{snapshot.captured_at.isoformat()}"
        )

    def _on_inspection(self, inspection: Inspection) -> None:
        self._regions.on_inspection(inspection)
        self.board.on_inspection(
            inspection.camera_id,
            inspection.at,
            inspection.findings,
            inspection.people,
            inspection.annotated_key,
        )

    def _on_health(self, event: HealthEvent) -> None:
        if not self.board.on_health(event) or not isinstance(event, StateChange):
            return
        message = f"camera {event.camera_id}: {event.previous.value} → {event.current.value} ({event.reason})"
        kind = alert_for(event.previous.value, event.current.value)
        level = _STATE_LEVEL.get(event.current, 0)
        self._alert(event.camera_id, kind, message, event.at, fallback_level=level)

    def _alert(
        self,
        camera_id: str,
        kind: CameraAlertKind | None,
        message: str,
        at: datetime,
        *,
        fallback_level: int = 0,
    ) -> None:
        """Store a camera alert (when it is news) and publish it; anything not stored goes out on the live
        feed as ``camera.state``."""
        camera = self.cameras.get(camera_id)
        zone = camera.zone if camera is not None else ""
        stored = None
        if kind is not None:
            try:
                stored = record_camera_alert(
                    self._c.workflow, CameraAlertIn(camera_id, zone, kind, message, at)
                )
            except SQLAlchemyError as exc:  # the database is down: the live feed still hears it
                log.warning("camera alert not stored: %s", exc)
        if stored is not None and kind is not None:  # a stored alert goes out under its own id and kind
            alert_id, alert_kind, level = str(stored.id), stored.kind, kind.level
        else:  # any other change: the live feed's camera.state
            alert_id = f"camera-{camera_id}-{at.isoformat()}"
            alert_kind, level = "camera.state", fallback_level
        self._c.bus.publish_alert(
            Alert(
                alert_id=alert_id,
                kind=alert_kind,
                level=level,
                message=message,
                created_at=at,
                zone=zone or None,
            )
        )


def build_monitor(container: Container, board: CameraBoard) -> CameraMonitor | None:
    """The monitor for ``settings.cameras.config_file``; None when no camera file is configured."""
    path = container.settings.cameras.config_file
    if path is None:
        return None
    return CameraMonitor(container, load_cameras(path), board=board)
