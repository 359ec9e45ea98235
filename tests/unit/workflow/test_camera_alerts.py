"""Camera health alerts: which state changes are news, and which stored alerts would repeat themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflow.domain.camera_alerts import CameraAlertKind, alert_for
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
