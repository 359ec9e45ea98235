"""The latest inspection per camera, stored for API processes that did not run it."""

from __future__ import annotations

from datetime import timedelta

from workflow.domain.clock import FakeClock
from workflow.services.camera_inspections import (
    CameraFinding,
    CameraInspection,
    latest_inspections,
    record_inspection,
)
from workflow.services.context import WorkflowContext
from workflow.services.frames import expired_frames

HEAD = CameraFinding("ppe.no_helmet", 0.8125, (1.5, 2.0, 30.0, 40.25), "hot-bay")


def test_the_newest_inspection_wins_and_its_frame_enters_the_ledger(
    sqlite_ctx: WorkflowContext, clock: FakeClock
) -> None:
    at = clock.now()
    newer = CameraInspection("cam-a", at, "a" * 64, 3, (HEAD,))
    older = CameraInspection("cam-a", at - timedelta(seconds=5), "b" * 64, 0, ())
    record_inspection(sqlite_ctx, newer)
    record_inspection(sqlite_ctx, older)  # a slower task finishing late
    record_inspection(sqlite_ctx, CameraInspection("cam-b", at, None, 0, ()))
    stored = latest_inspections(sqlite_ctx, ["cam-a", "cam-b", "cam-unknown"])
    assert stored["cam-a"] == newer  # findings round-trip exactly
    assert stored["cam-b"].findings == () and stored["cam-b"].annotated_key is None
    assert set(stored) == {"cam-a", "cam-b"}
    assert latest_inspections(sqlite_ctx, []) == {}
    ledger = expired_frames(sqlite_ctx, at + timedelta(days=1))
    assert sorted(ledger) == ["a" * 64, "b" * 64]  # both annotated frames are retention candidates
