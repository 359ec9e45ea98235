"""The before/after verdict rules at their thresholds (defaults: same scene ≥ 0.85, different < 0.15,
box ≥ 90 % visible, surroundings ≥ 0.5 similar, resolved: change ≥ 0.2 and ratio ≥ 2.5, unchanged: change
≤ 0.1 and ratio ≤ 2.0), with the numbers built by hand instead of from photos."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from vision.matching import (
    MatchingError,
    RegionCheck,
    Registration,
    Verdict,
    VerifyConfig,
    decide_region,
    decide_scene,
    hazard_classes_for,
    verify,
)

CFG = VerifyConfig()
NO_POINTS = np.zeros((0, 2), np.float32)
MATCHED = Registration(np.eye(3), 120, 200, 0.6, 0.9, 500, 480, "orb", NO_POINTS, NO_POINTS)
CLEAR = RegionCheck(((0, 0), (1, 0), (1, 1), (0, 1)), 1.0, 0.3, 0.9, 0.5, 3.0, None, None)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"keypoints_before": 29},
            (Verdict.NEEDS_REINSPECTION, "before photo is blank or featureless (29 keypoints)"),
        ),
        (
            {"keypoints_after": 12},
            (Verdict.NEEDS_REINSPECTION, "after photo is blank or featureless (12 keypoints)"),
        ),
        (  # both as poor: the after photo is named, the one an inspector can take again
            {"keypoints_before": 12, "keypoints_after": 12},
            (Verdict.NEEDS_REINSPECTION, "after photo is blank or featureless (12 keypoints)"),
        ),
        ({"keypoints_before": 30, "keypoints_after": 30}, None),
        (
            {"homography": None},
            (Verdict.DIFFERENT_SCENE, "different scene: same-scene score 0.90, 120 inliers"),
        ),
        (
            {"same_scene": 0.149},
            (Verdict.DIFFERENT_SCENE, "different scene: same-scene score 0.15, 120 inliers"),
        ),
        (
            {"same_scene": 0.15},
            (Verdict.NEEDS_REINSPECTION, "weak match: same-scene score 0.15 < 0.85 (120 inliers)"),
        ),
        (
            {"same_scene": 0.849},
            (Verdict.NEEDS_REINSPECTION, "weak match: same-scene score 0.85 < 0.85 (120 inliers)"),
        ),
        ({"same_scene": 0.85}, None),
    ],
)
def test_scene_decision_boundaries(changes: dict[str, object], expected: tuple[Verdict, str] | None) -> None:
    decided = decide_scene(replace(MATCHED, **changes), CFG)  # type: ignore[arg-type]
    assert decided == (None if expected is None else (expected[0], (expected[1],)))


@pytest.mark.parametrize(
    ("changes", "verdict", "reason"),
    [
        (
            {"visible_fraction": 0.899},
            Verdict.NEEDS_REINSPECTION,
            "after photo shows only 90% of the hazard box",
        ),
        ({"visible_fraction": 0.9}, Verdict.RESOLVED, None),
        (
            {"ring_similarity": 0.499},
            Verdict.NEEDS_REINSPECTION,
            "surroundings do not agree after registration (similarity 0.50)",
        ),
        ({"ring_similarity": 0.5}, Verdict.RESOLVED, None),
        ({"hazard_confidence_after": 0.0}, Verdict.RESOLVED, None),
        (
            {"hazard_confidence_after": 0.01},
            Verdict.NOT_RESOLVED,
            "detector still finds the hazard (confidence 0.01)",
        ),
        ({"change": 0.2, "diff_ratio": 2.5}, Verdict.RESOLVED, None),
        ({"change": 0.199, "diff_ratio": 2.5}, Verdict.NEEDS_REINSPECTION, None),
        ({"change": 0.2, "diff_ratio": 2.499}, Verdict.NEEDS_REINSPECTION, None),
        (
            {"change": 0.1, "diff_ratio": 2.0},
            Verdict.NOT_RESOLVED,
            "hazard region looks unchanged (change 0.10, difference ratio 2.00)",
        ),
        (
            {"change": 0.101, "diff_ratio": 2.0},
            Verdict.NEEDS_REINSPECTION,
            "hazard region change is ambiguous (change 0.10, difference ratio 2.00)",
        ),
        ({"change": 0.1, "diff_ratio": 2.001}, Verdict.NEEDS_REINSPECTION, None),
    ],
)
def test_region_decision_boundaries(changes: dict[str, object], verdict: Verdict, reason: str | None) -> None:
    decided_verdict, reasons = decide_region(replace(CLEAR, **changes), CFG)  # type: ignore[arg-type]
    assert decided_verdict is verdict
    if reason is not None:
        assert reasons == (reason,)


def test_a_resolved_region_says_why() -> None:
    assert decide_region(CLEAR, CFG) == (
        Verdict.RESOLVED,
        ("hazard region changed while its surroundings did not (change 0.50, difference ratio 3.00)",),
    )


@pytest.mark.parametrize(("confidence", "verdict"), [(0.29, Verdict.RESOLVED), (0.3, Verdict.NOT_RESOLVED)])
def test_a_confidence_floor_of_its_own_is_inclusive(confidence: float, verdict: Verdict) -> None:
    floor = replace(CFG, hazard_confidence=0.3)
    assert decide_region(replace(CLEAR, hazard_confidence_after=confidence), floor)[0] is verdict


BLANK = np.full((128, 128, 3), 90, np.uint8)


@pytest.mark.parametrize(
    "box",
    [(10.0, 10.0, 14.0, 20.0), (0.5, 10.0, 4.5, 20.0), (10.0, 0.5, 20.0, 4.5), (-20.0, 10.0, 80.0, 20.0)],
)
def test_boxes_on_the_size_and_inside_bounds_are_accepted(box: tuple[float, float, float, float]) -> None:
    assert verify(BLANK, BLANK.copy(), box).verdict is Verdict.NOT_RESOLVED  # identical: refused nothing


@pytest.mark.parametrize(
    ("box", "message"),
    [
        ((10.0, 10.0, 10.0, 20.0), "is not a valid x1,y1,x2,y2 box"),
        ((10.0, 10.0, 20.0, 10.0), "is not a valid x1,y1,x2,y2 box"),
        ((10.0, 10.0, 13.9, 20.0), "lies outside the 128x128 before photo"),
        ((10.0, 10.0, 20.0, 13.9), "lies outside the 128x128 before photo"),
        ((-1.0, 10.0, 3.0, 20.0), "lies outside the 128x128 before photo"),
        ((-25.0, 10.0, 75.0, 20.0), "lies mostly outside the 128x128 before photo"),
        ((10.0, -25.0, 20.0, 75.0), "lies mostly outside the 128x128 before photo"),
    ],
)
def test_bad_boxes_are_refused_by_what_is_wrong(box: tuple[float, float, float, float], message: str) -> None:
    with pytest.raises(MatchingError, match=re.escape(f"hazard box {box} {message}")):
        verify(BLANK, BLANK.copy(), box)


def test_bad_photos_are_named() -> None:
    with pytest.raises(MatchingError, match=r"^before photo must be a uint8 gray or BGR array$"):
        verify(BLANK.astype(np.float32), BLANK, (1, 1, 20, 20))  # type: ignore[arg-type]
    with pytest.raises(MatchingError, match=r"^after photo must have 3 channels \(BGR\), got 4$"):
        verify(BLANK, np.zeros((128, 128, 4), np.uint8), (1, 1, 20, 20))


def test_an_after_photo_within_one_grey_level_on_average_is_the_same_photo() -> None:
    gray = np.tile(np.arange(128, dtype=np.uint8), (128, 1))
    assert verify(gray, gray + 1, (10, 10, 40, 40)).reasons != (
        "after photo is identical to the before photo",
    )
    shifted_blue = BLANK.copy()
    shifted_blue[..., 0] += 2  # 2 levels in one channel of three: 0.67 on average
    assert verify(BLANK, shifted_blue, (10, 10, 40, 40)).reasons == (
        "after photo is identical to the before photo",
    )


def test_only_hazard_classes_count_in_the_region() -> None:
    assert hazard_classes_for(("head", "helmet", "person")) == frozenset({"head"})
    assert hazard_classes_for(("leak", "stain", "corrosion")) == frozenset({"leak", "stain", "corrosion"})
