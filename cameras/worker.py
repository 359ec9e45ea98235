"""One thread per camera: take a snapshot every interval, judge it, hand it on, keep health.

A thread per camera is the simplest way to guarantee that one slow or dead camera cannot delay
another: every blocking call is bounded by that camera's own timeouts. 50 mostly idle threads
cost next to nothing; the CPU goes to demuxing and decoding, not to scheduling.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from cameras.config import CameraConfig
from cameras.grabber import PersistentGrabber, grab_on_demand
from cameras.health import Backoff, EventSink, HealthTracker
from cameras.quality import QualityThresholds, assess
from cameras.snapshot import Snapshot, SnapshotSink
from cameras.stream import DecodedFrame, StreamError

_log = logging.getLogger(__name__)


class CameraWorker:
    def __init__(
        self,
        camera: CameraConfig,
        sink: SnapshotSink,
        *,
        on_event: EventSink | None = None,
        grace_s: float = 10.0,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        thresholds: QualityThresholds = QualityThresholds(),
        clock: Callable[[], float] = time.monotonic,
        start_offset_s: float = 0.0,
    ) -> None:
        self.camera = camera
        self._start_offset_s = start_offset_s
        self._sink = sink
        self._thresholds = thresholds
        self._clock = clock
        self.health = HealthTracker(
            camera.id, on_event=on_event, grace_s=grace_s, backoff=backoff, rng=rng, clock=clock
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._grabber: PersistentGrabber | None = None
        self._previous_digest: bytes | None = None
        self._sequence = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.camera.id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def _run(self) -> None:
        next_due = self._clock() + self._start_offset_s
        try:
            while not self._stop.wait(max(0.0, next_due - self._clock())):
                scheduled = next_due
                try:
                    frame = self._take()
                except StreamError as exc:
                    self._drop_grabber()
                    # A picture identical to one from before an outage (a rebooted camera replaying
                    # its first frame) is not a frozen feed: compare within one session only.
                    self._previous_digest = None
                    next_due = self._clock() + self.health.failure(str(exc))
                    continue
                self._deliver(frame, scheduled)
                # Missed ticks are skipped, not queued: a late camera catches up with the clock.
                next_due = max(scheduled + self.camera.interval_s, self._clock())
        except Exception:  # a bug must not silently kill the camera: log it loudly, then stop
            _log.exception("camera %s worker crashed", self.camera.id)
        finally:
            self._drop_grabber()

    def _take(self) -> DecodedFrame:
        cam = self.camera
        if not cam.persistent:
            frame, _ = grab_on_demand(
                cam.url,
                transport=cam.transport,
                open_timeout_s=cam.open_timeout_s,
                read_timeout_s=cam.read_timeout_s,
                keyframe_timeout_s=cam.keyframe_timeout_s,
            )
            return frame
        if self._grabber is None or not self._grabber.alive:
            self._drop_grabber()
            grabber = PersistentGrabber(
                cam.url,
                transport=cam.transport,
                open_timeout_s=cam.open_timeout_s,
                read_timeout_s=cam.read_timeout_s,
                keyframe_timeout_s=cam.keyframe_timeout_s,
            )
            grabber.connect()
            self._grabber = grabber
        return self._grabber.grab()

    def _deliver(self, frame: DecodedFrame, scheduled: float) -> None:
        result = assess(
            frame.image,
            previous_digest=self._previous_digest,
            decode_error=frame.decode_error,
            thresholds=self._thresholds,
        )
        self._previous_digest = result.digest
        self._sequence += 1
        snapshot = Snapshot(
            camera_id=self.camera.id,
            frame=frame.image,
            captured_at=datetime.now(UTC),
            sequence=self._sequence,
            pts_s=frame.pts_s,
            latency_s=max(0.0, self._clock() - scheduled),
            flags=result.flags,
        )
        if snapshot.is_evidence:
            self.health.frame_ok()
        else:
            self.health.frame_bad(", ".join(sorted(flag.value for flag in result.flags)))
        try:
            self._sink(snapshot)
        except Exception:  # the consumer's failure is not the camera's: keep polling
            _log.exception("snapshot sink failed for camera %s", self.camera.id)

    def _drop_grabber(self) -> None:
        if self._grabber is not None:
            self._grabber.close()
            self._grabber = None
