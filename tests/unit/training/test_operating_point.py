"""The image-level operating point: photos flagged through the PPE rules, thresholds chosen for a target.

Every expected value below is worked out by hand from the tiny scenes, not by the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from training.metrics import ImageResult
from training.operating_point import Target, choose, f1_threshold, flagged, image_level

NAMES = ("head", "helmet", "person")
HEAD, HELMET = 0, 1
BOX = (10.0, 10.0, 30.0, 30.0)
OTHER = (100.0, 100.0, 120.0, 120.0)


def photo(
    gt: list[tuple[int, tuple[float, ...]]], preds: list[tuple[int, float, tuple[float, ...]]]
) -> ImageResult:
    return ImageResult(
        np.array([b for _, b in gt], np.float64).reshape(-1, 4),
        np.array([c for c, _ in gt], np.int64),
        np.array([b for _, _, b in preds], np.float64).reshape(-1, 4),
        np.array([s for _, s, _ in preds], np.float64),
        np.array([c for c, _, _ in preds], np.int64),
    )


def test_a_photo_is_flagged_by_the_ppe_rules_not_by_any_head_box() -> None:
    bare = photo([(HEAD, BOX)], [(HEAD, 0.40, BOX)])
    assert flagged(bare, NAMES, (0.30, 0.30, 0.30))
    assert not flagged(bare, NAMES, (0.41, 0.30, 0.30))  # below its threshold
    # the same head region also boxed as a more confident helmet: one head, wearing a helmet
    covered = photo([(HELMET, BOX)], [(HEAD, 0.40, BOX), (HELMET, 0.80, BOX)])
    assert not flagged(covered, NAMES, (0.30, 0.30, 0.30))
    # ... unless the helmet box is below the helmet threshold
    assert flagged(covered, NAMES, (0.30, 0.85, 0.30))


def test_image_level_counts_photos() -> None:
    results = [
        photo([(HEAD, BOX)], [(HEAD, 0.9, BOX)]),  # bare head, flagged: hit
        photo([(HEAD, BOX)], []),  # bare head, missed
        photo([(HELMET, BOX)], [(HEAD, 0.5, OTHER)]),  # no bare head, flagged: false alarm
        photo([(HELMET, BOX)], [(HELMET, 0.9, BOX)]),  # no bare head, quiet
        photo([], []),  # empty scene, quiet
    ]
    level = image_level(results, NAMES, (0.3, 0.3, 0.3))
    assert level is not None
    assert (level.positives, level.negatives) == (2, 3)
    assert level.recall == pytest.approx(1 / 2) and level.false_alarm == pytest.approx(1 / 3)
    assert image_level(results, ("helmet", "person"), (0.3, 0.3)) is None


def test_f1_threshold_is_the_score_where_f1_peaks() -> None:
    # helmet boxes: 0.9 TP, 0.8 TP, 0.6 FP, 0.4 TP, 0.2 FP; 3 ground truths.
    # F1 at cut-offs: 0.9 → P1 R1/3 = 0.5; 0.8 → P1 R2/3 = 0.8; 0.6 → P2/3 R2/3 = 0.667;
    # 0.4 → P3/4 R1 = 0.857; 0.2 → P3/5 R1 = 0.75. Best: 0.4.
    boxes = [(0.0, 0.0, 10.0, 10.0), (20.0, 0.0, 30.0, 10.0), (40.0, 0.0, 50.0, 10.0)]
    results = [
        photo(
            [(HELMET, b) for b in boxes],
            [(HELMET, 0.9, boxes[0]), (HELMET, 0.8, boxes[1]), (HELMET, 0.6, OTHER), (HELMET, 0.4, boxes[2])],
        ),
        photo([], [(HELMET, 0.2, OTHER)]),
    ]
    assert f1_threshold(results, HELMET, 0.25) == pytest.approx(0.4)
    assert f1_threshold(results, 2, 0.25) == 0.25  # person: unlabelled here, the default stays


def _scenes() -> list[ImageResult]:
    # Ten photos with a bare head, scored 0.95, 0.90, ..., 0.50; ten without, with a stray head box on
    # two of them at 0.70 and 0.45 (not on a labelled head: false alarms when above the threshold).
    positives = [photo([(HEAD, BOX)], [(HEAD, round(0.95 - 0.05 * i, 2), BOX)]) for i in range(10)]
    negatives = [photo([(HELMET, BOX)], [(HELMET, 0.9, BOX)]) for _ in range(8)]
    negatives += [photo([], [(HEAD, 0.70, OTHER)]), photo([], [(HEAD, 0.45, OTHER)])]
    return positives + negatives


def test_the_highest_threshold_reaching_the_recall_target_is_chosen() -> None:
    # Recall ≥ 0.9 needs 9 of 10 positives: the 9th scores 0.55, so any threshold ≤ 0.55 works; the
    # highest on the 0.01 grid is 0.55. There the 0.70 stray is a false alarm (1 of 10), the 0.45 one not.
    point = choose(_scenes(), NAMES, target=Target(0.9, 0.1), dataset="d", split="val")
    assert point.met
    assert point.thresholds["head"] == pytest.approx(0.55)
    assert point.result.recall == pytest.approx(0.9) and point.result.false_alarm == pytest.approx(0.1)
    assert len(point.curve) == 91 and point.curve[0].threshold == pytest.approx(0.05)


def test_an_unreachable_target_says_so_and_keeps_the_false_alarm_limit() -> None:
    # With no false alarm allowed the threshold must exceed the 0.70 stray: 0.71 … 0.75 all keep the five
    # positives scored 0.75 … 0.95 (recall 0.5); the highest of those equally good thresholds is taken.
    point = choose(_scenes(), NAMES, target=Target(0.9, 0.0), dataset="d", split="val")
    assert not point.met
    assert point.thresholds["head"] == pytest.approx(0.75)
    assert point.result.recall == pytest.approx(0.5) and point.result.false_alarm == 0.0
    # A recall tolerance of 0.1: 0.4 is as good as 0.5, and the highest threshold keeping 0.4 (the four
    # positives scored 0.80 … 0.95) is 0.80.
    lenient = choose(
        _scenes(), NAMES, target=Target(0.9, 0.0, recall_tolerance=0.1), dataset="d", split="val"
    )
    assert lenient.thresholds["head"] == pytest.approx(0.80) and lenient.result.recall == pytest.approx(0.4)


def test_a_dataset_without_heads_is_refused() -> None:
    with pytest.raises(ValueError, match="head"):
        choose([], ("helmet",), target=Target(), dataset="d", split="val")
