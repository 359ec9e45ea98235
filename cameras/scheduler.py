"""Many cameras in one process: this worker's shard of the camera list, one ``CameraWorker`` each."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable

from cameras.config import CameraConfig
from cameras.health import Backoff, EventSink, HealthSnapshot, HealthTracker
from cameras.quality import QualityThresholds
from cameras.sharding import cameras_for_shard
from cameras.snapshot import SnapshotSink
from cameras.worker import CameraWorker


class CameraScheduler:
    def __init__(
        self,
        cameras: Iterable[CameraConfig],
        sink: SnapshotSink,
        *,
        on_event: EventSink | None = None,
        shard_index: int = 0,
        shard_count: int = 1,
        grace_s: float = 10.0,
        backoff: Backoff | None = None,
        thresholds: QualityThresholds = QualityThresholds(),
        seed: int | None = None,
        max_spread_s: float = 10.0,
    ) -> None:
        self.cameras = cameras_for_shard(cameras, shard_index, shard_count)
        rng = random.Random(seed)
        enabled = [camera for camera in self.cameras if camera.enabled]
        # Spread first snapshots over (at most) the first seconds, so M cameras do not all connect,
        # decode and hit the sink in the same instant on every tick.
        self._workers = [
            CameraWorker(
                camera,
                sink,
                on_event=on_event,
                grace_s=grace_s,
                backoff=backoff,
                rng=random.Random(rng.random()),
                thresholds=thresholds,
                start_offset_s=min(camera.interval_s, max_spread_s) * index / len(enabled),
            )
            for index, camera in enumerate(enabled)
        ]
        # Disabled cameras still have a health row (state "disabled") so the UI can list them.
        self._disabled = [
            HealthTracker(camera.id, clock=time.monotonic, enabled=False)
            for camera in self.cameras
            if not camera.enabled
        ]
        self._started = False

    def start(self) -> None:
        if self._started:
            raise RuntimeError("scheduler already started")
        self._started = True
        for worker in self._workers:
            worker.start()

    def stop(self, timeout_s: float = 15.0) -> bool:
        """Stop every camera; True when all threads ended within ``timeout_s`` (they are bounded by
        their read timeouts, so a False here means a bug, not a slow camera)."""
        for worker in self._workers:
            worker.stop()
        deadline = time.monotonic() + timeout_s
        return all(worker.join(max(0.0, deadline - time.monotonic())) for worker in self._workers)

    def health(self) -> tuple[HealthSnapshot, ...]:
        rows = [worker.health.snapshot() for worker in self._workers]
        rows += [tracker.snapshot() for tracker in self._disabled]
        return tuple(sorted(rows, key=lambda row: row.camera_id))

    def __enter__(self) -> CameraScheduler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
