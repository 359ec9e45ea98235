"""Sensor alert tiers: thresholds with hysteresis and debounce, as a pure state machine.

Tier 1 is normal (below the first threshold). A reading enters tier n when value ≥ rising(n); it
leaves tier n (downwards) only when value < falling(n) (= rising - hysteresis), so a value hovering
at a threshold does not flap. A new tier must hold for ``debounce`` before it is committed.
Default Cl2 example: < 1 ppm tier 1, 1–3 ppm tier 2, ≥ 3 ppm tier 3.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from workflow.domain.errors import InvalidInput

BASE_TIER = 1


@dataclass(frozen=True, slots=True)
class Threshold:
    tier: int
    rising: float
    falling: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rising) and math.isfinite(self.falling)):
            raise InvalidInput("thresholds must be finite")
        if self.falling > self.rising:
            raise InvalidInput(f"tier {self.tier}: falling threshold must be ≤ rising")


@dataclass(frozen=True, slots=True)
class SensorDefinition:
    sensor_id: str
    zone: str
    unit: str
    thresholds: tuple[Threshold, ...]  # tiers 2, 3, ... in increasing order
    debounce: timedelta = timedelta(0)
    stale_after: timedelta = timedelta(minutes=5)
    min_value: float | None = 0.0  # concentrations cannot be negative
    max_value: float | None = None

    def __post_init__(self) -> None:
        if not self.sensor_id or not self.zone:
            raise InvalidInput("sensor_id and zone are required")
        if len(self.sensor_id) > 64 or len(self.zone) > 64 or len(self.unit) > 16:
            # The columns' widths: PostgreSQL would refuse a longer value with a 500, SQLite would keep it.
            raise InvalidInput("sensor_id and zone take at most 64 characters, unit at most 16")
        tiers = [t.tier for t in self.thresholds]
        if tiers != list(range(BASE_TIER + 1, BASE_TIER + 1 + len(tiers))):
            raise InvalidInput(f"thresholds must define tiers 2, 3, ... in order, got {tiers}")
        risings = [t.rising for t in self.thresholds]
        if risings != sorted(risings) or len(set(risings)) != len(risings):
            raise InvalidInput("rising thresholds must strictly increase with the tier")
        if self.debounce < timedelta(0) or self.stale_after <= timedelta(0):
            raise InvalidInput("debounce must be ≥ 0 and stale_after > 0")

    def thresholds_json(self) -> str:
        return json.dumps([[t.tier, t.rising, t.falling] for t in self.thresholds])

    @staticmethod
    def thresholds_from_json(text: str) -> tuple[Threshold, ...]:
        return tuple(Threshold(int(t), float(r), float(f)) for t, r, f in json.loads(text))


def tiers_with_hysteresis(risings: tuple[float, ...], hysteresis: float) -> tuple[Threshold, ...]:
    """Convenience: tiers 2.. from rising thresholds and one absolute hysteresis band."""
    if hysteresis < 0 or not math.isfinite(hysteresis):
        raise InvalidInput("hysteresis must be a finite number ≥ 0")
    return tuple(Threshold(i + BASE_TIER + 1, r, r - hysteresis) for i, r in enumerate(risings))


@dataclass(frozen=True, slots=True)
class SensorState:
    tier: int = BASE_TIER
    candidate_tier: int | None = None
    candidate_since: datetime | None = None
    last_value: float | None = None
    last_at: datetime | None = None
    stale: bool = False


@dataclass(frozen=True, slots=True)
class TierChange:
    previous: int
    tier: int
    value: float
    at: datetime


def validate_reading(definition: SensorDefinition, value: float, at: datetime, state: SensorState) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"sensor {definition.sensor_id}: reading must be a finite number, got {value!r}")
    if definition.min_value is not None and value < definition.min_value:
        raise InvalidInput(
            f"sensor {definition.sensor_id}: {value} {definition.unit} is below {definition.min_value}"
        )
    if definition.max_value is not None and value > definition.max_value:
        raise InvalidInput(
            f"sensor {definition.sensor_id}: {value} {definition.unit} is above {definition.max_value}"
        )
    if state.last_at is not None and at < state.last_at:
        raise InvalidInput(
            f"sensor {definition.sensor_id}: reading at {at.isoformat()} is older than the last one "
            f"({state.last_at.isoformat()}); out-of-order readings are refused"
        )


def target_tier(definition: SensorDefinition, current: int, value: float) -> int:
    """The tier the value points at, given the current tier (hysteresis applies only downwards)."""
    rising = BASE_TIER
    for t in definition.thresholds:
        if value >= t.rising:
            rising = t.tier
    if rising > current:  # pragma: no mutate (">=" is equivalent: at rising == current the loop keeps it)
        return rising
    by_tier = {t.tier: t for t in definition.thresholds}
    tier = current
    while tier > BASE_TIER and value < by_tier[tier].falling:
        tier -= 1
    return tier


def step(
    definition: SensorDefinition, state: SensorState, value: float, at: datetime
) -> tuple[SensorState, TierChange | None]:
    """Feed one (validated) reading; returns the new state and the committed tier change, if any."""
    target = target_tier(definition, state.tier, value)
    base = SensorState(state.tier, None, None, value, at)
    if target == state.tier:
        return base, None
    since = state.candidate_since if state.candidate_tier == target and state.candidate_since else at
    if at - since >= definition.debounce:
        change = TierChange(state.tier, target, value, at)
        return SensorState(target, None, None, value, at), change
    return SensorState(state.tier, target, since, value, at), None


def is_stale(definition: SensorDefinition, state: SensorState, now: datetime) -> bool:
    return state.last_at is not None and now - state.last_at > definition.stale_after
