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


_MAX_REASONS, _MAX_REASON = 6, 300


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
    A hazard seen in several places (merged photos, many frames) has one region per detection: the verdict
    is the worst region's, ``regions_resolved`` of ``regions_checked`` say how many were fixed, and
    ``reasons`` say what the matcher saw (shown when the scores alone explain nothing, e.g. an identical
    after photo).
    """

    verdict: Verdict
    match_score: float
    inliers: int = 0
    hazard_score: float | None = None
    reasons: tuple[str, ...] = ()
    regions_checked: int = 1
    regions_resolved: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdict", Verdict(self.verdict))
        scores = [self.match_score] + ([self.hazard_score] if self.hazard_score is not None else [])
        if not all(isinstance(s, int | float) and math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores):
            raise InvalidInput(f"verification scores must be finite and within 0–1, got {scores}")
        if self.inliers < 0:
            raise InvalidInput("inliers must be ≥ 0")
        if self.regions_checked < 0 or not 0 <= (self.regions_resolved or 0) <= self.regions_checked:
            raise InvalidInput("regions resolved must be between 0 and the regions checked")
        reasons = tuple(str(r)[:_MAX_REASON] for r in self.reasons[:_MAX_REASONS])
        object.__setattr__(self, "reasons", reasons)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> VerificationOutcome:
        data = json.loads(text)
        resolved = data.get("regions_resolved")
        return cls(
            Verdict(data["verdict"]),
            float(data["match_score"]),
            int(data["inliers"]),
            data["hazard_score"],
            tuple(str(r) for r in data.get("reasons", ())),  # absent in evidence stored before them
            int(data.get("regions_checked", 1)),
            None if resolved is None else int(resolved),
        )
