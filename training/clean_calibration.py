"""Thresholds that keep a model quiet on clean real pictures (``hazardeye calibrate-clean``).

For a model that has never seen a real positive (``leak@1`` is trained on procedural paint-overs), the
only honest real-data target is the negative one: no finding on pictures that show none. Each class's
threshold becomes the highest score it reaches on the calibration pictures plus a margin (never below the
card's own), and the result is checked on held-out clean pictures the thresholds were not chosen on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vision.model_card import ImageLevel, OperatingPoint

MAX_THRESHOLD = 0.99


@dataclass(frozen=True, slots=True)
class PictureScores:
    """The highest confidence each class reached on one picture (classes it never reached are absent)."""

    name: str
    best: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class CleanCalibration:
    thresholds: dict[str, float]
    calibration_pictures: int
    held_out_pictures: int
    held_out_flagged: tuple[str, ...]  # held-out pictures that still produce a finding

    def operating_point(self, dataset: str, finding: str) -> OperatingPoint:
        negatives = self.held_out_pictures
        rate = len(self.held_out_flagged) / negatives if negatives else 0.0
        result = ImageLevel(finding=finding, positives=0, negatives=negatives, recall=0.0, false_alarm=rate)
        return OperatingPoint(
            dataset=dataset,
            split="clean",
            target_recall=0.0,
            max_false_alarm=0.0,
            met=not self.held_out_flagged,
            thresholds=self.thresholds,
            result=result,
        )


def calibrate(
    calibration: Sequence[PictureScores],
    held_out: Sequence[PictureScores],
    classes: Sequence[str],
    current: Mapping[str, float],
    margin: float = 0.02,
) -> CleanCalibration:
    """Per class in ``classes``: max(current threshold, highest calibration score + ``margin``), capped at
    ``MAX_THRESHOLD``; then which held-out pictures still reach a threshold."""
    if not calibration:
        raise ValueError("no calibration picture")
    thresholds: dict[str, float] = {}
    for name in classes:
        highest = max((p.best.get(name, 0.0) for p in calibration), default=0.0)
        thresholds[name] = round(min(MAX_THRESHOLD, max(current.get(name, 0.0), highest + margin)), 3)
    flagged = tuple(p.name for p in held_out if any(p.best.get(n, 0.0) >= t for n, t in thresholds.items()))
    return CleanCalibration(thresholds, len(calibration), len(held_out), flagged)
