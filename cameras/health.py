"""Camera stream health: an explicit state table, backoff with jitter, and typed events.

The tracker is a plain object driven by the camera's worker thread; it owns no thread and reads
time only from the injected clock, so tests can drive it deterministically.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

_log = logging.getLogger(__name__)


class StreamState(StrEnum):
    CONNECTING = "connecting"
    STREAMING = "streaming"
    DEGRADED = "degraded"
    OFFLINE = "offline"
    DISABLED = "disabled"


class StreamInput(StrEnum):
    """What happened to the stream; the table maps (state, input) to the next state."""

    FRAME_OK = "frame_ok"  # a decoded frame that is valid evidence
    FRAME_BAD = "frame_bad"  # decoded, but frozen / black / decode error
    FAILURE = "failure"  # open, read or decode failed, or timed out
    GRACE_EXPIRED = "grace_expired"  # failures have lasted longer than the grace period
    DISABLE = "disable"
    ENABLE = "enable"


_S, _I = StreamState, StreamInput
TRANSITIONS: dict[tuple[StreamState, StreamInput], StreamState] = {
    (_S.CONNECTING, _I.FRAME_OK): _S.STREAMING,
    (_S.CONNECTING, _I.FRAME_BAD): _S.DEGRADED,
    (_S.CONNECTING, _I.FAILURE): _S.CONNECTING,  # never streamed yet: keep trying until the grace runs out
    (_S.CONNECTING, _I.GRACE_EXPIRED): _S.OFFLINE,
    (_S.CONNECTING, _I.DISABLE): _S.DISABLED,
    (_S.STREAMING, _I.FRAME_OK): _S.STREAMING,
    (_S.STREAMING, _I.FRAME_BAD): _S.DEGRADED,
    (_S.STREAMING, _I.FAILURE): _S.DEGRADED,
    (_S.STREAMING, _I.DISABLE): _S.DISABLED,
    (_S.DEGRADED, _I.FRAME_OK): _S.STREAMING,
    (_S.DEGRADED, _I.FRAME_BAD): _S.DEGRADED,
    (_S.DEGRADED, _I.FAILURE): _S.DEGRADED,
    (_S.DEGRADED, _I.GRACE_EXPIRED): _S.OFFLINE,
    (_S.DEGRADED, _I.DISABLE): _S.DISABLED,
    (_S.OFFLINE, _I.FRAME_OK): _S.STREAMING,
    (_S.OFFLINE, _I.FRAME_BAD): _S.DEGRADED,
    (_S.OFFLINE, _I.FAILURE): _S.OFFLINE,
    (_S.OFFLINE, _I.GRACE_EXPIRED): _S.OFFLINE,
    (_S.OFFLINE, _I.DISABLE): _S.DISABLED,
    # Results that arrive after the camera was disabled are late, not errors: they change nothing.
    (_S.DISABLED, _I.DISABLE): _S.DISABLED,
    (_S.DISABLED, _I.FRAME_OK): _S.DISABLED,
    (_S.DISABLED, _I.FRAME_BAD): _S.DISABLED,
    (_S.DISABLED, _I.FAILURE): _S.DISABLED,
    (_S.DISABLED, _I.GRACE_EXPIRED): _S.DISABLED,
    (_S.DISABLED, _I.ENABLE): _S.CONNECTING,
}
del _S, _I


class IllegalTransitionError(RuntimeError):
    """An input that the state table does not allow in the current state (a programming error)."""


def next_state(state: StreamState, event: StreamInput) -> StreamState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransitionError(f"{event.value} is not allowed while {state.value}") from None


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter: ``min(cap, base * factor**n)`` scaled down by up to ``jitter``.

    Jitter spreads the reconnects of many cameras that failed together (a switch reboot) so they do
    not hit the network or the NVR in lockstep. The cap is short: a camera that comes back is seen within
    15 s, and one reconnect attempt per camera every 15 s costs the NVR nothing.
    """

    base_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 15.0
    jitter: float = 0.2

    def delay(self, failures: int, rng: random.Random) -> float:
        if failures <= 0:
            return 0.0
        raw = min(self.cap_s, self.base_s * self.factor ** min(failures - 1, 64))
        return raw * (1.0 - self.jitter * rng.random())


@dataclass(frozen=True, slots=True)
class StateChange:
    camera_id: str
    previous: StreamState
    current: StreamState
    at: datetime
    reason: str  # one line, credentials scrubbed
    consecutive_failures: int


@dataclass(frozen=True, slots=True)
class RetryScheduled:
    camera_id: str
    attempt: int
    delay_s: float
    at: datetime
    reason: str


HealthEvent = StateChange | RetryScheduled
EventSink = Callable[[HealthEvent], None]


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    """A consistent read of one camera's health for the API and metrics."""

    camera_id: str
    state: StreamState
    last_frame_at: datetime | None
    fps: float | None  # rate of valid frames over the recent window
    frames_ok: int
    frames_bad: int
    failures: int
    consecutive_failures: int
    last_error: str | None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class HealthTracker:
    """Feeds stream inputs through the table, keeps counters, and emits events on changes."""

    def __init__(
        self,
        camera_id: str,
        *,
        on_event: EventSink | None = None,
        grace_s: float = 10.0,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float],
        wall_clock: Callable[[], datetime] = _utc_now,
        enabled: bool = True,
    ) -> None:
        self.camera_id = camera_id
        self._on_event = on_event
        self._grace_s = grace_s
        self._backoff = backoff or Backoff()
        self._rng = rng or random.Random()
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()  # the API thread reads while the worker thread writes
        self._state = StreamState.CONNECTING if enabled else StreamState.DISABLED
        self._last_ok_mono: float | None = None
        self._failing_since: float | None = None
        self._last_frame_at: datetime | None = None
        self._ok_times: list[float] = []
        self._frames_ok = self._frames_bad = self._failures = self._consecutive = 0
        self._last_error: str | None = None

    @property
    def state(self) -> StreamState:
        return self._state

    def frame_ok(self) -> None:
        now = self._clock()
        with self._lock:
            self._frames_ok += 1
            self._consecutive = 0
            self._failing_since = None
            self._last_ok_mono = now
            self._last_frame_at = self._wall_clock()
            self._ok_times = [*(t for t in self._ok_times[-63:] if now - t <= 60.0), now]
        self._apply(StreamInput.FRAME_OK, "valid frame")

    def frame_bad(self, reason: str) -> None:
        with self._lock:
            self._frames_bad += 1
            self._consecutive = 0
            self._failing_since = None
            self._last_frame_at = self._wall_clock()
            self._last_error = reason
        self._apply(StreamInput.FRAME_BAD, reason)

    def failure(self, reason: str) -> float:
        """Record a failure; returns how long to wait before the next attempt (and emits it)."""
        now = self._clock()
        with self._lock:
            self._failures += 1
            self._consecutive += 1
            self._last_error = reason
            if self._failing_since is None:
                self._failing_since = now
            expired = now - self._failing_since >= self._grace_s
            attempt = self._consecutive
            delay = self._backoff.delay(attempt, self._rng)
        self._apply(StreamInput.FAILURE, reason)
        if expired:
            self._apply(StreamInput.GRACE_EXPIRED, f"no frame for {self._grace_s:g}s: {reason}")
        self._emit(RetryScheduled(self.camera_id, attempt, delay, self._wall_clock(), reason))
        return delay

    def disable(self) -> None:
        self._apply(StreamInput.DISABLE, "disabled")

    def enable(self) -> None:
        self._apply(StreamInput.ENABLE, "enabled")

    def snapshot(self) -> HealthSnapshot:
        with self._lock:
            times = self._ok_times
            fps = (
                (len(times) - 1) / (times[-1] - times[0])
                if len(times) >= 2 and times[-1] > times[0]
                else None
            )
            return HealthSnapshot(
                camera_id=self.camera_id,
                state=self._state,
                last_frame_at=self._last_frame_at,
                fps=fps,
                frames_ok=self._frames_ok,
                frames_bad=self._frames_bad,
                failures=self._failures,
                consecutive_failures=self._consecutive,
                last_error=self._last_error,
            )

    def _apply(self, event: StreamInput, reason: str) -> None:
        with self._lock:
            previous = self._state
            self._state = next_state(previous, event)
            current, consecutive = self._state, self._consecutive
        if current is not previous:
            self._emit(
                StateChange(self.camera_id, previous, current, self._wall_clock(), reason, consecutive)
            )

    def _emit(self, event: HealthEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a broken subscriber must not take the camera down
            _log.exception("health event subscriber failed for camera %s", self.camera_id)
