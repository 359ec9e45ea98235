"""In-memory camera status board: health state, latest snapshot and latest findings per camera.

Written by camera worker threads (health events, snapshots) and task threads (inspection results),
read by the API; one lock keeps every read consistent. It lives in the process that polls the cameras;
inspections that ran in other processes (Celery workers) are merged in from the database on read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cameras.config import CameraConfig, WatchRegionConfig
from cameras.health import HealthEvent, StateChange, StreamState
from workflow.services.camera_inspections import CameraFinding, latest_inspections
from workflow.services.context import WorkflowContext


@dataclass(frozen=True, slots=True)
class CameraStatus:
    id: str
    name: str
    zone: str
    state: StreamState
    last_frame_at: datetime | None = None
    last_error: str | None = None
    snapshot_key: str | None = None
    snapshot_at: datetime | None = None
    annotated_key: str | None = None
    findings_last: tuple[CameraFinding, ...] = ()
    people_last: int | None = None
    inspected_at: datetime | None = None
    watch: tuple[WatchRegionConfig, ...] = ()  # the camera file's watched regions
    frame_size: tuple[int, int] | None = None  # width, height of the latest snapshot


class CameraBoard:
    def __init__(self, cameras: Iterable[CameraConfig] = ()) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, CameraStatus] = {}
        for camera in cameras:
            self.add(camera)

    def add(self, camera: CameraConfig) -> None:
        state = StreamState.CONNECTING if camera.enabled else StreamState.DISABLED
        with self._lock:
            self._rows[camera.id] = CameraStatus(
                camera.id, camera.name, camera.zone, state, watch=camera.watch
            )

    def on_health(self, event: HealthEvent) -> bool:
        """Apply a health event; True when it changed the camera's state (worth publishing)."""
        with self._lock:
            row = self._rows.get(event.camera_id)
            if row is None:
                return False
            if isinstance(event, StateChange):
                self._rows[row.id] = replace(row, state=event.current, last_error=_error_of(event))
                return event.current is not event.previous
            self._rows[row.id] = replace(row, last_error=event.reason)
            return False

    def on_snapshot(
        self, camera_id: str, key: str, at: datetime, size: tuple[int, int] | None = None
    ) -> None:
        """The camera's latest frame is ``key`` (``size``: its width and height, when known)."""
        with self._lock:
            row = self._rows.get(camera_id)
            if row is not None:
                self._rows[camera_id] = replace(
                    row,
                    snapshot_key=key,
                    snapshot_at=at,
                    last_frame_at=at,
                    frame_size=size if size is not None else row.frame_size,
                )

    def on_inspection(
        self,
        camera_id: str,
        at: datetime,
        findings: tuple[CameraFinding, ...],
        people: int,
        annotated_key: str | None,
    ) -> None:
        with self._lock:
            row = self._rows.get(camera_id)
            # Inspections can finish out of order (several task threads): keep the newest.
            if row is None or (row.inspected_at is not None and row.inspected_at > at):
                return
            self._rows[camera_id] = replace(
                row, findings_last=findings, people_last=people, annotated_key=annotated_key, inspected_at=at
            )

    def merge_stored(self, ctx: WorkflowContext) -> None:
        """Apply inspections stored by other processes that are newer than what this board holds."""
        for inspection in latest_inspections(ctx, [row.id for row in self.all()]).values():
            self.on_inspection(
                inspection.camera_id,
                inspection.at,
                inspection.findings,
                inspection.people,
                inspection.annotated_key,
            )

    def get(self, camera_id: str) -> CameraStatus | None:
        with self._lock:
            return self._rows.get(camera_id)

    def all(self) -> tuple[CameraStatus, ...]:
        with self._lock:
            return tuple(sorted(self._rows.values(), key=lambda row: row.id))

    def fresh_snapshots(self, zone: str, now: datetime, max_age: timedelta) -> tuple[str, ...]:
        """Latest frame keys of the zone's cameras that are at most ``max_age`` old (sensor evidence)."""
        with self._lock:
            return tuple(
                row.snapshot_key
                for row in sorted(self._rows.values(), key=lambda r: r.id)
                if row.zone == zone
                and row.snapshot_key is not None
                and row.snapshot_at is not None
                and now - row.snapshot_at <= max_age
            )


def _error_of(event: StateChange) -> str | None:
    return None if event.current is StreamState.STREAMING else event.reason
