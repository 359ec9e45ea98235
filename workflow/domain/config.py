"""Workflow configuration: every domain number in one frozen object (defaults from the seeds)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from workflow.domain.grading import GradingPolicy
from workflow.domain.repeats import RepeatPolicy


def _default_kind_risk() -> dict[str, tuple[int, int]]:
    # (likelihood, severity) per observation kind; family defaults ("ppe") apply to any "ppe.*".
    return {
        "ppe": (3, 4),  # 12 → orange
        "leak": (3, 4),
        "leak.leak": (4, 4),  # 16 → orange
        "permit.no_valid_permit": (4, 5),  # 20 → red
        "sensor.tier2": (4, 4),
        "sensor.tier3": (5, 5),  # 25 → red
    }


@dataclass(frozen=True, slots=True)
class WorkflowConfig:
    grading: GradingPolicy = field(default_factory=GradingPolicy)
    repeats: RepeatPolicy = field(default_factory=RepeatPolicy)
    kind_risk: dict[str, tuple[int, int]] = field(default_factory=_default_kind_risk)
    default_risk: tuple[int, int] = (3, 3)  # 9 → yellow
    # An open hazard seen again within this window (since its last evidence) gets the evidence appended.
    dedup_window: timedelta = timedelta(hours=8)
    # A closed hazard at the same equipment seen again within this window is reopened, not duplicated.
    reopen_window: timedelta = timedelta(days=7)
    # Device clocks may run ahead by this much; later than that is refused as clock skew.
    max_clock_skew: timedelta = timedelta(minutes=2)
    # Observations below this confidence are recorded but open no hazard. 0 by default: camera and photo
    # findings arrive at their model card's operating point (per-class thresholds chosen on held-out data),
    # and a second floor here would silently move it (a bare head at 0.2 above a card's 0.15 was dropped).
    min_confidence: float = 0.0

    def risk_for(self, kind: str) -> tuple[int, int]:
        return self.kind_risk.get(kind) or self.kind_risk.get(kind.split(".", 1)[0]) or self.default_risk
