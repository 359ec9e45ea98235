"""Which camera health changes a person must hear about, as stored alerts.

A camera that goes dark is a blind spot in the plant: it is an alert like a gas reading, stored,
acknowledged and sent on, not a line in a log. Starting up (connecting → streaming) is not news; losing
the stream is (offline: no valid frame for the health grace period, which is the debounce), and so is
getting it back, so the person who saw the first knows it is over. A degraded stream (one failed read,
one bad frame) is not stored: on real streams it comes and goes within seconds (a reconnect, the first
frames before a keyframe, a static scene read as frozen); the live feed still carries it. A picture that
*stays* black or frozen while the stream is up (a covered lens, a dead sensor, a hung encoder) is a
blind spot like an outage: stored once it has lasted ``PictureFaults.after_s``, "back" with the first
good frame after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class CameraAlertKind(StrEnum):
    OFFLINE = "camera.offline"
    BLACK = "camera.black"  # the stream is up, every frame black
    FROZEN = "camera.frozen"  # the stream is up, the picture does not change
    VIEW_CHANGED = "camera.view_changed"  # moved, knocked or refocused: watched regions look elsewhere
    BACK = "camera.back"

    @property
    def level(self) -> int:
        levels = {CameraAlertKind.OFFLINE: 2, CameraAlertKind.BLACK: 1, CameraAlertKind.FROZEN: 1}
        return levels.get(self, 1 if self is CameraAlertKind.VIEW_CHANGED else 0)


# A "back" closes any of these; a second one of the same kind in a row is no news.
LOSSES = frozenset({CameraAlertKind.OFFLINE, CameraAlertKind.BLACK, CameraAlertKind.FROZEN})
_PICTURE_FAULTS = {"black": CameraAlertKind.BLACK, "frozen": CameraAlertKind.FROZEN}


@dataclass(slots=True)
class PictureFaults:
    """Debounces black / frozen pictures per camera: ``observe`` each snapshot's quality flags
    (``cameras.quality.QualityFlag`` values) and the monotonic time; it answers the alert to raise, once
    per episode, or "back" at the first good frame after a raised one."""

    after_s: float
    _since: dict[str, tuple[CameraAlertKind, float]] = field(default_factory=dict)
    _raised: dict[str, CameraAlertKind] = field(default_factory=dict)

    def observe(self, camera_id: str, flags: Iterable[str], now: float) -> CameraAlertKind | None:
        faults = sorted(_PICTURE_FAULTS[f] for f in flags if f in _PICTURE_FAULTS)
        if not faults:
            self._since.pop(camera_id, None)
            return CameraAlertKind.BACK if self._raised.pop(camera_id, None) is not None else None
        kind = faults[0]  # black before frozen: a black picture is also unchanging
        started = self._since.get(camera_id)
        if started is None or started[0] is not kind:
            self._since[camera_id] = started = (kind, now)
        if now - started[1] >= self.after_s and self._raised.get(camera_id) is not kind:
            self._raised[camera_id] = kind
            return kind
        return None


def alert_for(previous: str, current: str) -> CameraAlertKind | None:
    """The alert a health state change (``cameras.health.StreamState`` values) raises, if any."""
    if current == "offline" and previous != "offline":
        return CameraAlertKind.OFFLINE
    if previous == "offline" and current == "streaming":
        return CameraAlertKind.BACK
    return None
