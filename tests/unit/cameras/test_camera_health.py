from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from cameras.health import (
    TRANSITIONS,
    Backoff,
    HealthEvent,
    HealthTracker,
    IllegalTransitionError,
    RetryScheduled,
    StateChange,
    StreamInput,
    StreamState,
    next_state,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _tracker(events: list[HealthEvent], clock: FakeClock, grace_s: float = 10.0) -> HealthTracker:
    return HealthTracker(
        "cam-1",
        on_event=events.append,
        grace_s=grace_s,
        backoff=Backoff(base_s=1.0, factor=2.0, cap_s=30.0, jitter=0.0),
        rng=random.Random(0),
        clock=clock,
        wall_clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_every_state_handles_disable_and_only_disabled_can_enable() -> None:
    for state in StreamState:
        assert next_state(state, StreamInput.DISABLE) is StreamState.DISABLED
        if state is not StreamState.DISABLED:
            with pytest.raises(IllegalTransitionError, match="enable is not allowed while"):
                next_state(state, StreamInput.ENABLE)
    assert next_state(StreamState.DISABLED, StreamInput.ENABLE) is StreamState.CONNECTING
    # Streaming never goes straight offline: it always degrades first.
    assert next_state(StreamState.STREAMING, StreamInput.FAILURE) is StreamState.DEGRADED
    assert (StreamState.STREAMING, StreamInput.GRACE_EXPIRED) not in TRANSITIONS


def test_failures_degrade_then_go_offline_only_after_the_grace_period() -> None:
    events: list[HealthEvent] = []
    clock = FakeClock()
    tracker = _tracker(events, clock, grace_s=10.0)
    tracker.frame_ok()
    assert tracker.state is StreamState.STREAMING
    delays = []
    for _ in range(5):
        delays.append(tracker.failure("refused"))
        clock.now += 2.0
    assert tracker.state is StreamState.DEGRADED  # 8 s of failures < 10 s grace
    delays.append(tracker.failure("refused"))
    assert tracker.state is StreamState.OFFLINE  # 10 s
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0]
    tracker.frame_ok()
    assert tracker.state is StreamState.STREAMING
    changes = [(e.previous, e.current) for e in events if isinstance(e, StateChange)]
    assert changes == [
        (StreamState.CONNECTING, StreamState.STREAMING),
        (StreamState.STREAMING, StreamState.DEGRADED),
        (StreamState.DEGRADED, StreamState.OFFLINE),
        (StreamState.OFFLINE, StreamState.STREAMING),
    ]
    assert [e.delay_s for e in events if isinstance(e, RetryScheduled)] == delays
    stats = tracker.snapshot()
    assert (stats.failures, stats.consecutive_failures, stats.frames_ok) == (6, 0, 2)
    assert stats.last_error == "refused"


def test_bad_frames_degrade_but_never_count_towards_offline() -> None:
    events: list[HealthEvent] = []
    clock = FakeClock()
    tracker = _tracker(events, clock, grace_s=1.0)
    for _ in range(5):
        tracker.frame_bad("frozen")
        clock.now += 5
    assert tracker.state is StreamState.DEGRADED
    assert tracker.snapshot().frames_bad == 5
    tracker.frame_ok()
    assert tracker.state is StreamState.STREAMING


def test_fps_and_last_frame_time() -> None:
    clock = FakeClock()
    tracker = _tracker([], clock)
    assert tracker.snapshot().fps is None and tracker.snapshot().last_frame_at is None
    for _ in range(11):
        tracker.frame_ok()
        clock.now += 0.5
    stats = tracker.snapshot()
    assert stats.fps == pytest.approx(2.0)
    assert stats.last_frame_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_a_failing_subscriber_does_not_break_the_tracker() -> None:
    def explode(event: HealthEvent) -> None:
        raise RuntimeError("subscriber bug")

    tracker = HealthTracker("c", on_event=explode, clock=FakeClock())
    tracker.frame_ok()
    tracker.failure("x")
    assert tracker.state is StreamState.DEGRADED


def test_disabled_camera_ignores_late_results_and_can_be_enabled() -> None:
    events: list[HealthEvent] = []
    tracker = _tracker(events, FakeClock())
    tracker.disable()
    tracker.frame_ok()
    tracker.failure("late")
    assert tracker.state is StreamState.DISABLED
    tracker.enable()
    assert tracker.state is StreamState.CONNECTING


def test_backoff_grows_is_capped_and_jitter_only_shortens() -> None:
    backoff = Backoff(base_s=0.5, factor=2.0, cap_s=10.0, jitter=0.3)
    rng = random.Random(42)
    assert backoff.delay(0, rng) == 0.0
    for failures in range(1, 200):
        raw = min(10.0, 0.5 * 2.0 ** (failures - 1))
        delay = backoff.delay(failures, rng)
        assert 0.7 * raw <= delay <= raw
    # Two cameras failing together do not retry in lockstep.
    a, b = random.Random(1), random.Random(2)
    assert [backoff.delay(n, a) for n in range(1, 6)] != [backoff.delay(n, b) for n in range(1, 6)]
