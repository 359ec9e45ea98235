"""The typed hand-off from a camera to whatever consumes frames (detection, storage, the UI)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cameras.quality import BgrFrame, QualityFlag


@dataclass(frozen=True, slots=True)
class Snapshot:
    camera_id: str
    frame: BgrFrame  # HxWx3 BGR uint8, read-only
    captured_at: datetime  # UTC, when the frame was decoded
    sequence: int  # per-camera snapshot counter since the worker started
    pts_s: float | None  # stream timestamp of the frame, seconds (None when the stream has none)
    latency_s: float  # from the scheduled time to the decoded frame
    flags: frozenset[QualityFlag]

    @property
    def is_evidence(self) -> bool:
        """Only clean frames may become evidence for a hazard; flagged ones only feed health."""
        return not self.flags


SnapshotSink = Callable[[Snapshot], None]
