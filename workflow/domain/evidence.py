"""Evidence kinds and the before/after verification outcome (computed by vision, judged here)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from enum import StrEnum

from workflow.domain.errors import InvalidInput


class EvidenceKind(StrEnum):
    BEFORE_PHOTO = "before_photo"
    SNAPSHOT = "snapshot"
    AFTER_PHOTO = "after_photo"
    VERIFICATION = "verification"
    NOTE = "note"
    SENSOR_READING = "sensor_reading"
    OVERRIDE = "override"


class Verdict(StrEnum):
    RESOLVED = "resolved"
    NOT_RESOLVED = "not_resolved"
    DIFFERENT_SCENE = "different_scene"
    NEEDS_REINSPECTION = "needs_reinspection"


@dataclass(frozen=True, slots=True)
class VerificationOutcome:
    """Result of matching the after photo to the before photo.

    ``match_score``: share of the scene that registers (seed: < 0.85 → re-inspection);
    ``inliers``: homography inliers; ``hazard_score``: detector/change score left in the hazard region.
    """

    verdict: Verdict
    match_score: float
    inliers: int = 0
    hazard_score: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdict", Verdict(self.verdict))
        scores = [self.match_score] + ([self.hazard_score] if self.hazard_score is not None else [])
        if not all(isinstance(s, int | float) and math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores):
            raise InvalidInput(f"verification scores must be finite and within 0–1, got {scores}")
        if self.inliers < 0:
            raise InvalidInput("inliers must be ≥ 0")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> VerificationOutcome:
        data = json.loads(text)
        return cls(
            Verdict(data["verdict"]), float(data["match_score"]), int(data["inliers"]), data["hazard_score"]
        )
