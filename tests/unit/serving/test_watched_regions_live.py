"""The live watched regions pick up regions set through the API: one query for all cameras at most every
10 s, a new watcher only for the camera whose regions changed, a camera without ``watch`` in its file
watched once it has stored regions, and a region outside the frame still disabling just that camera."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event

from cameras.config import CameraConfig
from cameras.snapshot import Snapshot
from serving.pipelines.watched_regions import ViewChanged, WatchedRegions
from serving.settings import MonitorSettings
from tests.support.api import ApiHarness, api_harness, embedded_settings
from tests.support.watch_scene import textured_view, with_puddle
from workflow.domain.roles import Actor, Role
from workflow.services.queries import HazardFilter, list_hazards
from workflow.services.watch_regions import WatchRegionSpec, clear_watch_regions, set_watch_regions

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
ENGINEER = Actor(None, "eng-li", Role.SAFETY_ENGINEER)
# Around the puddle ``with_puddle`` draws at (260, 235): 120 × 100 px, the puddle about a fifth of it.
SEAL = WatchRegionSpec(
    "P-7 seal", "pump_seal", ((200.0, 180.0), (320.0, 180.0), (320.0, 280.0), (200.0, 280.0))
)
FILE_CAMERA = {
    "id": "cam-g", "name": "Gate", "url": "rtsp://10.0.0.6/s", "zone": "gate",
    "watch": [{"name": "valve V-2", "kind": "valve", "points": [[20, 20], [120, 20], [120, 100]]}],
}  # fmt: skip


class Ticks:
    """The monitor's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiHarness]:
    settings = embedded_settings(tmp_path, monitor=MonitorSettings(watch_persist_s=8.0))
    with api_harness(settings) as harness:
        yield harness


def _regions(api: ApiHarness, ticks: Ticks) -> WatchedRegions:
    cameras = [
        CameraConfig(id="cam-f", name="Pump house", url="rtsp://10.0.0.5/s", zone="pump-house"),  # no watch
        CameraConfig.model_validate(FILE_CAMERA),
    ]
    return WatchedRegions(api.container, cameras, clock=ticks)


def _snapshot(camera_id: str, second: int, frame: np.ndarray) -> Snapshot:
    frame.setflags(write=False)
    return Snapshot(camera_id, frame, T0 + timedelta(seconds=second), second, None, 0.0, frozenset())


def _frame(rng: np.random.Generator, puddle: bool) -> np.ndarray:
    frame = np.clip(textured_view() + rng.normal(0, 2.5, (360, 480, 3)), 0, 255).astype(np.uint8)
    return with_puddle(frame, (260, 235), 40) if puddle else frame


def _stored_reads(api: ApiHarness) -> list[str]:
    """Every statement that reads all cameras' stored regions (the monitor's refresh)."""
    reads: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM watch_configs" in statement and "WHERE" not in statement:
            reads.append(statement)

    event.listen(api.container.engine, "before_cursor_execute", seen)
    return reads


def _leaks(api: ApiHarness) -> list[tuple[str | None, str, int]]:
    page = list_hazards(api.container.workflow, HazardFilter())
    return [(h.equipment_id, h.source_id, h.severity) for h in page.items if h.kind == "leak.suspected"]


def test_regions_set_through_the_api_reach_a_camera_without_file_regions(
    api: ApiHarness, caplog: pytest.LogCaptureFixture
) -> None:
    ticks, rng = Ticks(), np.random.default_rng(3)
    regions = _regions(api, ticks)
    reads = _stored_reads(api)
    caplog.set_level(logging.INFO, logger="serving.pipelines.watched_regions")
    for second in range(46):
        ticks.now = float(second)
        if second == 3:  # set while the camera streams; read at the refresh at 10 s
            set_watch_regions(api.container.workflow, "cam-f", [SEAL], ENGINEER)
        frame = _frame(rng, puddle=second >= 25)
        assert regions.on_snapshot(_snapshot("cam-f", second, frame), "a" * 64) == []
        assert regions.on_snapshot(_snapshot("cam-g", second, frame.copy()), "b" * 64) == []
        if second == 24:
            assert _leaks(api) == []  # before the puddle: nothing
    # Learned from 10 s to 14 s, the puddle from 25 s, changed for 8 s: a pump seal's suspected leak.
    assert _leaks(api) == [("P-7 seal", "cam-f", 4)]
    assert len(reads) == 5  # at 0, 10, 20, 30 and 40 s: one query for both cameras each time
    rebuilt = [r.getMessage() for r in caplog.records if "now watching" in r.getMessage()]
    assert rebuilt == ["camera cam-f: now watching 1 region(s)"]  # the file camera's watcher was kept


def test_a_stored_region_outside_the_frame_disables_that_camera_until_it_changes(
    api: ApiHarness, caplog: pytest.LogCaptureFixture
) -> None:
    ticks, rng = Ticks(), np.random.default_rng(4)
    caplog.set_level(logging.INFO, logger="serving.pipelines.watched_regions")
    far = WatchRegionSpec("far", "floor", ((400.0, 300.0), (500.0, 300.0), (500.0, 400.0)))
    set_watch_regions(api.container.workflow, "cam-g", [far], ENGINEER)  # replaces the file's valve
    regions = _regions(api, ticks)
    said: list[list[ViewChanged]] = []
    for second in range(4):
        ticks.now = float(second)
        said.append(regions.on_snapshot(_snapshot("cam-g", second, _frame(rng, False)), "b" * 64))
    message = (
        "camera cam-g: watched regions disabled:"
        " region 'far': (400.0, 300.0, 500.0, 400.0) lies outside the 480×360 frame"
    )
    assert said == [[ViewChanged("cam-g", message)], [], [], []]  # said once

    # Back to the file's regions (picked up at the refresh at 10 s): the camera is watched again.
    assert clear_watch_regions(api.container.workflow, "cam-g", ENGINEER)
    for second in range(4, 20):
        ticks.now = float(second)
        assert regions.on_snapshot(_snapshot("cam-g", second, _frame(rng, False)), "b" * 64) == []
    rebuilt = [r.getMessage() for r in caplog.records if "now watching" in r.getMessage()]
    assert rebuilt == ["camera cam-g: now watching 1 region(s)"]
