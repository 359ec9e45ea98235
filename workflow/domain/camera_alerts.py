"""Which camera health changes a person must hear about, as stored alerts.

A camera that goes dark is a blind spot in the plant: it is an alert like a gas reading, stored,
acknowledged and sent on, not a line in a log. Starting up (connecting → streaming) is not news; losing
the stream is (offline: no valid frame for the health grace period, which is the debounce), and so is
getting it back, so the person who saw the first knows it is over. A degraded stream (one failed read,
one bad frame) is not stored: on real streams it comes and goes within seconds (a reconnect, the first
frames before a keyframe, a static scene read as frozen); the live feed still carries it.
"""

from __future__ import annotations

from enum import StrEnum


class CameraAlertKind(StrEnum):
    OFFLINE = "camera.offline"
    BACK = "camera.back"

    @property
    def level(self) -> int:
        return 2 if self is CameraAlertKind.OFFLINE else 0


def alert_for(previous: str, current: str) -> CameraAlertKind | None:
    """The alert a health state change (``cameras.health.StreamState`` values) raises, if any."""
    if current == "offline" and previous != "offline":
        return CameraAlertKind.OFFLINE
    if previous == "offline" and current == "streaming":
        return CameraAlertKind.BACK
    return None
