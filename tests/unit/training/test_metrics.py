"""mAP against hand-computed cases (COCO 101-point interpolation)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.metrics import ImageResult, average_precision, box_iou, evaluate


def _res(
    gt: list[list[float]], gc: list[int], pb: list[list[float]], ps: list[float], pc: list[int]
) -> ImageResult:
    return ImageResult(
        np.array(gt, float).reshape(-1, 4),
        np.array(gc, np.int64),
        np.array(pb, float).reshape(-1, 4),
        np.array(ps, float),
        np.array(pc, np.int64),
    )


BOX = [0.0, 0.0, 100.0, 100.0]
FAR = [200.0, 200.0, 250.0, 250.0]


def test_iou_hand_values() -> None:
    iou = box_iou(np.array([BOX]), np.array([[0, 0, 100, 62], [50, 0, 150, 100], FAR], float))
    assert iou[0, 0] == pytest.approx(0.62)
    assert iou[0, 1] == pytest.approx(50 * 100 / (2 * 10000 - 5000))
    assert iou[0, 2] == 0.0


def test_perfect_detection_scores_one() -> None:
    m = evaluate([_res([BOX], [0], [BOX], [0.9], [0])], ["a"], [0.5])
    assert m.map50 == pytest.approx(1.0)
    assert m.map50_95 == pytest.approx(1.0)


def test_false_positive_ranked_above_true_positive_halves_ap() -> None:
    # ranks: FP (0.9) then TP (0.8) → precision 0.5 at recall 1; the envelope is 0.5 everywhere
    m = evaluate([_res([BOX], [0], [FAR, BOX], [0.9, 0.8], [0, 0])], ["a"], [0.5])
    assert m.per_class[0].ap50 == pytest.approx(0.5)


def test_false_positive_ranked_below_true_positive_costs_nothing() -> None:
    m = evaluate([_res([BOX], [0], [BOX, FAR], [0.9, 0.8], [0, 0])], ["a"], [0.5])
    assert m.per_class[0].ap50 == pytest.approx(1.0)


def test_half_recall_gives_51_of_101_points() -> None:
    m = evaluate([_res([BOX, FAR], [0, 0], [BOX], [0.9], [0])], ["a"], [0.5])
    assert m.per_class[0].ap50 == pytest.approx(51 / 101)


def test_ap50_95_counts_only_thresholds_the_iou_passes() -> None:
    # IoU 0.62 passes t = 0.50, 0.55, 0.60 → 3 of 10 thresholds
    m = evaluate([_res([BOX], [0], [[0, 0, 100, 62]], [0.9], [0])], ["a"], [0.5])
    assert m.per_class[0].ap50 == pytest.approx(1.0)
    assert m.per_class[0].ap50_95 == pytest.approx(0.3)


def test_duplicate_detection_is_a_false_positive() -> None:
    m = evaluate([_res([BOX], [0], [BOX, BOX], [0.9, 0.8], [0, 0])], ["a"], [0.5])
    assert m.per_class[0].ap50 == pytest.approx(1.0)  # the duplicate ranks after full recall
    assert m.per_class[0].precision == pytest.approx(0.5)
    assert m.per_class[0].recall == pytest.approx(1.0)


def test_precision_recall_at_deployed_threshold() -> None:
    r = _res([BOX, FAR], [0, 0], [BOX, FAR], [0.9, 0.3], [0, 0])
    hi = evaluate([r], ["a"], [0.5]).per_class[0]
    lo = evaluate([r], ["a"], [0.2]).per_class[0]
    assert (hi.precision, hi.recall) == pytest.approx((1.0, 0.5))
    assert (lo.precision, lo.recall) == pytest.approx((1.0, 1.0))


def test_wrong_class_counts_against_both_classes_and_in_confusion() -> None:
    m = evaluate([_res([BOX], [0], [BOX], [0.9], [1])], ["a", "b"], [0.5, 0.5])
    assert m.per_class[0].ap50 == 0.0
    assert math.isnan(m.per_class[1].ap50)  # no ground truth for "b": excluded from the mean
    assert m.map50 == 0.0
    assert m.confusion[1][0] == 1  # predicted b, truly a
    assert m.confusion[2][0] == 0 and m.confusion[1][2] == 0


def test_map_is_mean_over_classes_with_ground_truth() -> None:
    r = _res([BOX, FAR], [0, 1], [BOX, FAR, BOX], [0.9, 0.9, 0.95], [0, 1, 1])
    m = evaluate([r], ["a", "b"], [0.5, 0.5])
    assert m.per_class[0].ap50 == pytest.approx(1.0)
    assert m.per_class[1].ap50 == pytest.approx(0.5)  # FP at 0.95 (IoU 0 with b's gt) ranks first
    assert m.map50 == pytest.approx(0.75)
    # confusion matching is class-agnostic by score: the 0.95 "b" box takes a's ground truth first
    assert m.confusion[1][0] == 1 and m.confusion[1][1] == 1 and m.confusion[0][2] == 1


def test_pooling_across_images() -> None:
    # image 1: TP at 0.6; image 2: FP at 0.9 → pooled ranking FP, TP → AP 0.5
    m = evaluate([_res([BOX], [0], [BOX], [0.6], [0]), _res([], [], [BOX], [0.9], [0])], ["a"], [0.5])
    assert m.per_class[0].ap50 == pytest.approx(0.5)
    assert m.images == 2


def test_no_predictions_is_zero_ap() -> None:
    ap, _, _ = average_precision(np.zeros(0), np.zeros(0, bool), 3)
    assert ap == 0.0
