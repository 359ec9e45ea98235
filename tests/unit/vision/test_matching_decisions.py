"""The before/after verdict rules at their thresholds (defaults: same scene ≥ 0.85, different < 0.15,
box ≥ 90 % visible, surroundings ≥ 0.5 similar, resolved: change ≥ 0.2 and ratio ≥ 2.5, unchanged: change
≤ 0.1 and ratio ≤ 2.0), with the numbers built by hand instead of from photos."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from vision.matching import RegionCheck, Registration, Verdict, VerifyConfig, decide_region, decide_scene

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
