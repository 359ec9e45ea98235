"""Risk grading (likelihood × severity → level), per-level deadlines and the escalation rule."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from workflow.domain.errors import InvalidInput


class RiskLevel(StrEnum):
    """Chinese plants' four colours: 重大 red, 较大 orange, 一般 yellow, 低 blue."""

    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {RiskLevel.BLUE: 0, RiskLevel.YELLOW: 1, RiskLevel.ORANGE: 2, RiskLevel.RED: 3}


@dataclass(frozen=True, slots=True)
class LevelDeadlines:
    notify: timedelta
    respond: timedelta
    fix: timedelta


def _default_deadlines() -> dict[RiskLevel, LevelDeadlines]:
    # Red from the seeds (15 min / 2 h / 24 h); the others scale out, as typical plant rules do.
    h = timedelta(hours=1)
    return {
        RiskLevel.RED: LevelDeadlines(timedelta(minutes=15), 2 * h, 24 * h),
        RiskLevel.ORANGE: LevelDeadlines(1 * h, 8 * h, 72 * h),
        RiskLevel.YELLOW: LevelDeadlines(4 * h, 24 * h, 7 * 24 * h),
        RiskLevel.BLUE: LevelDeadlines(24 * h, 72 * h, 30 * 24 * h),
    }


@dataclass(frozen=True, slots=True)
class GradingPolicy:
    """Score = likelihood × severity (1–5 each). Score ≥ red_min → red, ≥ orange_min → orange, ..."""

    red_min: int = 20
    orange_min: int = 10
    yellow_min: int = 5
    deadlines: dict[RiskLevel, LevelDeadlines] = field(default_factory=_default_deadlines)
    # Overdue by this much → one step up the responsibility chain, then one more per interval.
    escalation_interval: timedelta = timedelta(hours=2)
    # Responsibility chain (index = escalation level): team leader → workshop → plant safety → director.
    escalation_chain: tuple[str, ...] = (
        "team_leader",
        "workshop_manager",
        "plant_safety_manager",
        "plant_director",
    )

    @property
    def max_escalation(self) -> int:
        return len(self.escalation_chain) - 1


def grade(likelihood: int, severity: int, policy: GradingPolicy) -> RiskLevel:
    for name, value in (("likelihood", likelihood), ("severity", severity)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise InvalidInput(f"{name} must be an integer 1–5, got {value!r}")
    score = likelihood * severity
    if score >= policy.red_min:
        return RiskLevel.RED
    if score >= policy.orange_min:
        return RiskLevel.ORANGE
    if score >= policy.yellow_min:
        return RiskLevel.YELLOW
    return RiskLevel.BLUE


@dataclass(frozen=True, slots=True)
class Deadlines:
    notify_by: datetime
    respond_by: datetime
    fix_by: datetime


def deadlines_for(level: RiskLevel, discovered_at: datetime, policy: GradingPolicy) -> Deadlines:
    d = policy.deadlines[level]
    return Deadlines(discovered_at + d.notify, discovered_at + d.respond, discovered_at + d.fix)


def overdue_by(
    now: datetime, respond_by: datetime, fix_by: datetime, *, unanswered: bool, unfixed: bool
) -> timedelta:
    """How far past its applicable deadline a hazard is (zero when on time)."""
    late = timedelta(0)
    if unanswered:
        late = max(late, now - respond_by)
    if unfixed:
        late = max(late, now - fix_by)
    return late


def escalation_target(late: timedelta, policy: GradingPolicy) -> int:
    """Escalation level owed for being ``late``: 0 until one interval, then +1 per interval, capped."""
    if late < policy.escalation_interval:
        return 0
    steps = math.floor(late / policy.escalation_interval)
    return min(policy.max_escalation, steps)
