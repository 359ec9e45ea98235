from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflow.domain.errors import InvalidInput
from workflow.domain.sensors import (
    SensorDefinition,
    SensorState,
    Threshold,
    is_stale,
    step,
    tiers_with_hysteresis,
    validate_reading,
)

T = datetime(2026, 1, 1, tzinfo=UTC)
CL2 = SensorDefinition("cl2-1", "z1", "ppm", tiers_with_hysteresis((1.0, 3.0), 0.2))


def feed(d: SensorDefinition, values: list[tuple[float, float]]) -> list[tuple[int, int]]:
    state, changes = SensorState(), []
    for seconds, value in values:
        state, change = step(d, state, value, T + timedelta(seconds=seconds))
        if change:
            changes.append((change.previous, change.tier))
    return changes


@pytest.mark.parametrize(("value", "tier"), [(0.0, 1), (0.99, 1), (1.0, 2), (2.9, 2), (3.0, 3), (10.0, 3)])
def test_cl2_tiers(value: float, tier: int) -> None:
    state, _ = step(CL2, SensorState(), value, T)
    assert state.tier == tier


def test_hysteresis_prevents_flapping() -> None:
    assert feed(CL2, [(0, 1.05), (1, 0.95), (2, 1.05), (3, 0.85), (4, 0.75)]) == [(1, 2), (2, 1)]


def test_debounce_requires_the_tier_to_hold() -> None:
    d = SensorDefinition("s", "z", "ppm", CL2.thresholds, debounce=timedelta(seconds=10))
    assert feed(d, [(0, 2.0), (5, 0.1), (6, 2.0), (12, 2.0), (16, 2.0)]) == [(1, 2)]
    assert feed(d, [(0, 2.0), (9, 2.0)]) == []


def test_jump_straight_to_tier_3_and_back() -> None:
    assert feed(CL2, [(0, 5.0), (1, 0.0)]) == [(1, 3), (3, 1)]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), -0.1])
def test_bad_readings(bad: float) -> None:
    with pytest.raises(InvalidInput):
        validate_reading(CL2, bad, T, SensorState())


def test_out_of_order_reading() -> None:
    with pytest.raises(InvalidInput, match="older than the last"):
        validate_reading(CL2, 0.5, T, SensorState(last_at=T + timedelta(seconds=1)))


def test_bad_definitions() -> None:
    with pytest.raises(InvalidInput):
        SensorDefinition("s", "z", "ppm", (Threshold(2, 3.0, 2.0), Threshold(3, 1.0, 0.5)))
    with pytest.raises(InvalidInput):
        Threshold(2, 1.0, 1.5)
    with pytest.raises(InvalidInput):
        SensorDefinition("s", "z", "ppm", (Threshold(3, 1.0, 0.5),))


def test_stale() -> None:
    state = SensorState(last_at=T)
    assert not is_stale(CL2, state, T + CL2.stale_after)
    assert is_stale(CL2, state, T + CL2.stale_after + timedelta(seconds=1))
    assert not is_stale(CL2, SensorState(), T)
