"""Camera health alerts: which state changes are news, and which stored alerts would repeat themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflow.domain.camera_alerts import CameraAlertKind, PictureFaults, alert_for
from workflow.services.camera_alerts import CameraAlertIn, record_camera_alert
from workflow.services.context import WorkflowContext
from workflow.services.sensors import list_alerts

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
K = CameraAlertKind


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        ("connecting", "streaming", None),  # starting up is not news
        ("connecting", "offline", K.OFFLINE),  # never came up within the grace period
        ("streaming", "offline", K.OFFLINE),
        ("degraded", "offline", K.OFFLINE),
        ("offline", "offline", None),
        ("streaming", "degraded", None),  # one failed read: comes and goes, the live feed has it
        ("degraded", "streaming", None),
        ("offline", "streaming", K.BACK),
        ("offline", "degraded", None),  # frames again, but bad ones: not back yet
        ("streaming", "disabled", None),
    ],
)
def test_which_changes_raise_an_alert(previous: str, current: str, expected: CameraAlertKind | None) -> None:
    assert alert_for(previous, current) == expected


def test_levels() -> None:
    assert (K.OFFLINE.level, K.BACK.level) == (2, 0)


def _alert(kind: CameraAlertKind, seconds: float, camera: str = "gate-1") -> CameraAlertIn:
    return CameraAlertIn(camera, "gate", kind, f"{camera} {kind.value}", T0 + timedelta(seconds=seconds))


def test_alerts_are_stored_and_never_repeat_themselves(sqlite_ctx: WorkflowContext) -> None:
    assert record_camera_alert(sqlite_ctx, _alert(K.BACK, 0)) is None  # no loss on record
    offline = record_camera_alert(sqlite_ctx, _alert(K.OFFLINE, 10))
    assert offline is not None and (offline.camera_id, offline.kind, offline.zone) == (
        "gate-1",
        "camera.offline",
        "gate",
    )
    assert record_camera_alert(sqlite_ctx, _alert(K.OFFLINE, 20)) is None  # still the same outage
    assert (
        record_camera_alert(sqlite_ctx, _alert(K.OFFLINE, 30, camera="gate-2")) is not None
    )  # another camera
    assert record_camera_alert(sqlite_ctx, _alert(K.BACK, 70)) is not None
    assert record_camera_alert(sqlite_ctx, _alert(K.BACK, 80)) is None  # already back
    assert record_camera_alert(sqlite_ctx, _alert(K.OFFLINE, 90)) is not None  # a new outage
    stored = [(a.kind, a.camera_id) for a in list_alerts(sqlite_ctx)]
    assert stored == [
        ("camera.offline", "gate-1"),
        ("camera.back", "gate-1"),
        ("camera.offline", "gate-2"),
        ("camera.offline", "gate-1"),
    ]
    assert all(not a.acknowledged and a.tier is None for a in list_alerts(sqlite_ctx))


def test_picture_levels() -> None:
    assert (K.BLACK.level, K.FROZEN.level) == (1, 1)


def test_a_picture_fault_is_raised_once_after_it_lasted_and_cleared_by_a_good_frame() -> None:
    faults = PictureFaults(after_s=120.0)
    assert faults.observe("cam", ["black"], 0.0) is None
    assert faults.observe("cam", ["black"], 119.9) is None  # not yet: 119.9 s < 120 s
    assert faults.observe("cam", ["black"], 120.0) is K.BLACK  # the boundary itself raises
    assert faults.observe("cam", ["black"], 500.0) is None  # once per episode
    assert faults.observe("other", [], 500.0) is None  # other cameras are their own
    assert faults.observe("cam", [], 501.0) is K.BACK
    assert faults.observe("cam", [], 502.0) is None  # back only once


def test_a_good_frame_restarts_the_clock_and_a_new_fault_kind_starts_its_own() -> None:
    faults = PictureFaults(after_s=10.0)
    assert faults.observe("cam", ["frozen"], 0.0) is None
    assert faults.observe("cam", [], 9.0) is None  # a fault never raised needs no "back"
    assert faults.observe("cam", ["frozen"], 10.0) is None  # restarted at 10 s
    assert faults.observe("cam", ["black", "frozen"], 15.0) is None  # black now: its own clock from 15 s
    assert faults.observe("cam", ["black", "frozen"], 24.9) is None
    assert faults.observe("cam", ["black", "frozen"], 25.0) is K.BLACK
    assert faults.observe("cam", ["frozen"], 30.0) is None  # frozen from 30 s
    assert faults.observe("cam", ["frozen"], 40.0) is K.FROZEN
    assert faults.observe("cam", ["decode_error"], 41.0) is K.BACK  # not a picture fault: the picture is back


def test_back_follows_a_picture_loss_and_the_same_loss_twice_is_no_news(sqlite_ctx: WorkflowContext) -> None:
    assert record_camera_alert(sqlite_ctx, _alert(K.FROZEN, 0)) is not None
    assert record_camera_alert(sqlite_ctx, _alert(K.FROZEN, 5)) is None
    assert record_camera_alert(sqlite_ctx, _alert(K.BLACK, 6)) is not None  # a different loss is news
    assert record_camera_alert(sqlite_ctx, _alert(K.BACK, 9)) is not None
    assert record_camera_alert(sqlite_ctx, _alert(K.BACK, 10)) is None
    kinds = [a.kind for a in list_alerts(sqlite_ctx, limit=10)]
    assert sorted(kinds) == sorted(["camera.frozen", "camera.black", "camera.back"])
