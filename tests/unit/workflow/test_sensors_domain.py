from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from workflow.domain.errors import InvalidInput
from workflow.domain.sensors import (
    SensorDefinition,
    SensorState,
    Threshold,
    TierChange,
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


# Exact states and boundaries, written out by hand. CL2: tier 2 from 1.0 (falls below 0.8), tier 3 from
# 3.0 (falls below 2.8).
SLOW = SensorDefinition("s", "z", "ppm", CL2.thresholds, debounce=timedelta(seconds=10))


def _at(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def test_a_committed_change_is_the_whole_new_state() -> None:
    assert step(CL2, SensorState(stale=True), 2.0, T) == (
        SensorState(2, None, None, 2.0, T, stale=False),
        TierChange(1, 2, 2.0, T),
    )


def test_a_reading_in_the_same_tier_refreshes_value_time_and_staleness() -> None:
    state = SensorState(2, None, None, 1.5, T, stale=True)
    assert step(CL2, state, 1.7, _at(1)) == (SensorState(2, None, None, 1.7, _at(1), stale=False), None)


def test_a_pending_change_waits_out_the_debounce_and_commits_at_exactly_its_end() -> None:
    pending, change = step(SLOW, SensorState(stale=True), 2.0, T)
    assert (pending, change) == (SensorState(1, 2, T, 2.0, T, stale=False), None)
    held, change = step(SLOW, pending, 2.1, _at(9.999))
    assert (held, change) == (SensorState(1, 2, T, 2.1, _at(9.999), stale=False), None)
    assert step(SLOW, held, 2.2, _at(10)) == (
        SensorState(2, None, None, 2.2, _at(10), stale=False),
        TierChange(1, 2, 2.2, _at(10)),
    )


def test_a_pending_change_to_another_tier_restarts_the_debounce() -> None:
    towards_three, _ = step(SLOW, SensorState(), 5.0, T)
    towards_two, change = step(SLOW, towards_three, 2.0, _at(5))
    assert (towards_two, change) == (SensorState(1, 2, _at(5), 2.0, _at(5), stale=False), None)
    assert step(SLOW, towards_two, 2.0, _at(14.9))[1] is None
    assert step(SLOW, towards_two, 2.0, _at(15))[1] == TierChange(1, 2, 2.0, _at(15))


@pytest.mark.parametrize(
    ("current", "value", "tier"),
    [
        (2, 0.8, 2),
        (2, 0.79, 1),
        (3, 2.8, 3),
        (3, 2.79, 2),
        (3, 0.79, 1),
        (3, 1.5, 2),
        (1, 2.99, 2),
        (2, 3.0, 3),
    ],
)
def test_hysteresis_boundaries(current: int, value: float, tier: int) -> None:
    assert step(CL2, SensorState(current), value, T)[0].tier == tier


def test_readings_on_the_bounds_and_at_the_last_time_are_accepted() -> None:
    bounded = SensorDefinition("o2", "z", "%", CL2.thresholds, min_value=0.0, max_value=25.0)
    for value in (0.0, 25.0):
        validate_reading(bounded, value, T, SensorState(last_at=T))
    with pytest.raises(InvalidInput, match=r"^sensor o2: 25.1 % is above 25.0$"):
        validate_reading(bounded, 25.1, T, SensorState())
    with pytest.raises(InvalidInput, match=r"^sensor o2: -0.1 % is below 0.0$"):
        validate_reading(bounded, -0.1, T, SensorState())


@pytest.mark.parametrize("bad", [True, "1.0", None])
def test_a_reading_that_is_not_a_number_is_refused(bad: object) -> None:
    with pytest.raises(InvalidInput, match=rf"^sensor cl2-1: reading must be a finite number, got {bad!r}$"):
        validate_reading(CL2, bad, T, SensorState())  # type: ignore[arg-type]


def test_the_longest_ids_and_unit_the_columns_hold_are_accepted() -> None:
    longest = SensorDefinition("s" * 64, "z" * 64, "u" * 16, ())
    assert (len(longest.sensor_id), len(longest.zone), len(longest.unit)) == (64, 64, 16)


LONG = "sensor_id and zone take at most 64 characters, unit at most 16"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Threshold(2, float("inf"), 1.0), "thresholds must be finite"),
        (lambda: Threshold(2, 1.0, float("nan")), "thresholds must be finite"),
        (lambda: Threshold(2, 1.0, 1.5), "tier 2: falling threshold must be ≤ rising"),
        (lambda: SensorDefinition("", "z", "ppm", ()), "sensor_id and zone are required"),
        (lambda: SensorDefinition("s", "", "ppm", ()), "sensor_id and zone are required"),
        (lambda: SensorDefinition("s" * 65, "z", "ppm", ()), LONG),
        (lambda: SensorDefinition("s", "z" * 65, "ppm", ()), LONG),
        (lambda: SensorDefinition("s", "z", "u" * 17, ()), LONG),
        (
            lambda: SensorDefinition("s", "z", "ppm", (Threshold(3, 1.0, 0.5),)),
            r"thresholds must define tiers 2, 3, ... in order, got \[3\]",
        ),
        (
            lambda: SensorDefinition("s", "z", "ppm", (Threshold(2, 1.0, 0.5), Threshold(3, 1.0, 0.5))),
            "rising thresholds must strictly increase with the tier",
        ),
        (
            lambda: SensorDefinition("s", "z", "ppm", (), debounce=timedelta(seconds=-1)),
            "debounce must be ≥ 0 and stale_after > 0",
        ),
        (
            lambda: SensorDefinition("s", "z", "ppm", (), stale_after=timedelta(0)),
            "debounce must be ≥ 0 and stale_after > 0",
        ),
        (lambda: tiers_with_hysteresis((1.0,), -0.1), "hysteresis must be a finite number ≥ 0"),
        (lambda: tiers_with_hysteresis((1.0,), float("nan")), "hysteresis must be a finite number ≥ 0"),
    ],
)
def test_bad_definitions_say_what_is_wrong(make: Callable[[], object], message: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{message}$"):
        make()


def test_definitions_on_their_bounds_are_accepted() -> None:
    assert Threshold(2, 1.0, 1.0).falling == 1.0
    assert tiers_with_hysteresis((1.0, 3.0), 0.0) == (Threshold(2, 1.0, 1.0), Threshold(3, 3.0, 3.0))
    assert SensorDefinition("s", "z", "ppm", (), debounce=timedelta(0)).debounce == timedelta(0)
    assert (
        SensorDefinition("s", "z", "ppm", CL2.thresholds).thresholds_json()
        == "[[2, 1.0, 0.8], [3, 3.0, 2.8]]"
    )
    assert SensorDefinition.thresholds_from_json("[[2, 1.0, 0.8], [3, 3.0, 2.8]]") == CL2.thresholds


def test_hysteresis_lowers_each_falling_threshold() -> None:
    assert tiers_with_hysteresis((1.0, 3.0), 0.5) == (Threshold(2, 1.0, 0.5), Threshold(3, 3.0, 2.5))
