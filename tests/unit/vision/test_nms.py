"""NMS against an obviously-correct pure-Python reference on random boxes."""

from __future__ import annotations

import numpy as np
import pytest

from vision.nms import batched_nms, box_iou, nms


def _iou(a: list[float], b: list[float]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _reference_nms(
    boxes: list[list[float]], scores: list[float], classes: list[int], thr: float
) -> list[int]:
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])
    kept: list[int] = []
    for i in order:
        if all(classes[i] != classes[k] or _iou(boxes[i], boxes[k]) <= thr for k in kept):
            kept.append(i)
    return kept


def _random_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    xy = rng.uniform(0, 300, (n, 2))
    wh = rng.uniform(5, 120, (n, 2))
    return np.concatenate([xy, xy + wh], axis=1).astype(np.float32)


@pytest.mark.parametrize("seed", range(20))
def test_class_wise_nms_matches_the_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 150))
    boxes = _random_boxes(rng, n)
    scores = (rng.permutation(n) / n).astype(np.float32)  # distinct scores: a unique answer
    classes = rng.integers(0, 3, n).astype(np.int64)
    threshold = float(rng.uniform(0.2, 0.8))
    ours = batched_nms(boxes, scores, classes, threshold).tolist()
    expected = _reference_nms(boxes.tolist(), scores.tolist(), classes.tolist(), threshold)
    assert ours == expected


def test_single_class_nms_suppresses_overlaps_and_keeps_disjoint() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    assert nms(boxes, scores, 0.5).tolist() == [0, 2]


def test_different_classes_never_suppress_each_other() -> None:
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float32)
    scores = np.array([0.9, 0.8], np.float32)
    assert batched_nms(boxes, scores, np.array([0, 1]), 0.5).tolist() == [0, 1]


def test_no_boxes_gives_no_indices() -> None:
    empty = np.zeros((0, 4), np.float32)
    assert batched_nms(empty, np.zeros(0, np.float32), np.zeros(0, np.int64), 0.5).size == 0


@pytest.mark.parametrize("seed", range(5))
def test_box_iou_matches_the_reference_including_degenerate_boxes(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    boxes = _random_boxes(rng, 60)
    boxes[:5, 2] = boxes[:5, 0]  # zero width
    boxes[5:10, 3] = boxes[5:10, 1] - 3  # inverted
    boxes[10] = boxes[11]  # identical pair
    for index in (0, 7, 11, 30):
        expected = [_iou(boxes[index].tolist(), other) for other in boxes.tolist()]
        np.testing.assert_allclose(box_iou(boxes[index], boxes), expected, atol=1e-6)


def test_iou_of_hand_drawn_boxes() -> None:
    a = np.array([0, 0, 10, 10], np.float32)
    others = np.array(
        [[5, 0, 15, 10], [0, 0, 10, 5], [10, 0, 20, 10], [20, 20, 30, 30], [0, 0, 10, 10], [2, 2, 2, 8]],
        np.float32,
    )
    # half-shifted: 50 / 150; lower half: 50 / 100; touching edge, disjoint: 0; itself: 1; zero width: 0
    np.testing.assert_allclose(box_iou(a, others), [1 / 3, 0.5, 0.0, 0.0, 1.0, 0.0], atol=1e-6)


@pytest.mark.parametrize(("threshold", "kept"), [(0.5, [0, 1]), (0.49, [0])])
def test_an_overlap_equal_to_the_threshold_is_kept(threshold: float, kept: list[int]) -> None:
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 5]], np.float32)  # IoU exactly 0.5
    assert nms(boxes, np.array([0.9, 0.8], np.float32), threshold).tolist() == kept


def test_the_most_confident_box_wins_whatever_the_input_order() -> None:
    boxes = np.array([[1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10]], np.float32)
    scores = np.array([0.6, 0.7, 0.9], np.float32)
    assert nms(boxes, scores, 0.5).tolist() == [2, 1]


def test_equal_scores_keep_the_earlier_box() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 1, 10, 11]], np.float32)
    assert nms(boxes, np.array([0.8, 0.8, 0.8], np.float32), 0.5).tolist() == [0]


def test_a_suppressed_box_no_longer_suppresses_others() -> None:
    """A chain a–b–c where only neighbours overlap: a removes b, and c (disjoint from a) stays."""
    boxes = np.array([[0, 0, 10, 10], [6, 0, 16, 10], [12, 0, 22, 10]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    assert nms(boxes, scores, 0.1).tolist() == [0, 2]


def test_classes_far_apart_in_coordinates_are_still_kept_apart() -> None:
    """Class offsets must clear the largest coordinate: a class-1 box at the far edge of the image
    and a class-0 box beside it never meet."""
    boxes = np.array([[0, 0, 1000, 1000], [0, 0, 1000, 1000], [999, 999, 1000, 1000]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    assert batched_nms(boxes, scores, np.array([0, 1, 1]), 0.5).tolist() == [0, 1, 2]


def test_sub_pixel_boxes_have_their_true_overlap() -> None:
    """Boxes in normalised coordinates have areas far below 1: the union guard must not swallow them."""
    a = np.array([0.0, 0.0, 0.5, 0.5], np.float32)
    iou = box_iou(a, np.array([[0.0, 0.0, 0.5, 0.25]], np.float32))
    assert iou.dtype == np.float32
    np.testing.assert_allclose(iou, [0.5], atol=1e-6)


def test_many_tied_scores_keep_their_input_order() -> None:
    """Ties are broken by input order (a stable sort), however many boxes tie."""
    boxes = np.array([[20 * i, 0, 20 * i + 10, 10] for i in range(40)], np.float32)  # all disjoint
    scores = [round(0.1 + 0.2 * ((7 * i) % 5), 1) for i in range(40)]  # five values, eight boxes each
    kept = nms(boxes, np.array(scores, np.float32), 0.5)
    assert kept.dtype == np.int64 and kept.tolist() == sorted(range(40), key=lambda i: (-scores[i], i))


def test_with_a_zero_threshold_classes_still_never_touch() -> None:
    boxes = np.array([[0, 0, 1000, 1000], [0, 0, 1000, 1000]], np.float32)
    kept = batched_nms(boxes, np.array([0.9, 0.8], np.float32), np.array([0, 1]), 0.0)
    assert kept.dtype == np.int64 and kept.tolist() == [0, 1]
    assert batched_nms(
        np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64), 0.5
    ).dtype == (np.int64)


def test_no_boxes_keep_an_empty_integer_index() -> None:
    none = np.zeros((0, 4), np.float32)
    kept = nms(none, np.zeros(0, np.float32), 0.5)
    assert (kept.dtype, kept.shape) == (np.dtype(np.int64), (0,))
    assert none[kept].shape == (0, 4)  # an empty float array would not index


def test_box_iou_is_float32_whatever_the_boxes_are() -> None:
    iou = box_iou(
        np.array([0, 0, 10, 10], np.float64), np.array([[0, 0, 10, 10], [5, 0, 15, 10]], np.float64)
    )
    assert iou.dtype == np.float32
    assert iou.tolist() == [1.0, pytest.approx(1 / 3)]  # 50 / (100 + 100 - 50)
