"""The shipped INT8 ``ppe@2`` finds what FP32 finds on the fixture photos: same classes, same boxes.

Measured when the variant was made (9 photos, 40 FP32 detections at the card's thresholds): every
detection clear of its class threshold by 0.1 or more has an INT8 twin of the same class at IoU >= 0.92
with a confidence within 0.08. What differs sits at a threshold, at most one per photo: a helmet at 0.263
(threshold 0.251) and a head at 0.160 (0.15) that INT8 scores just under, and a helmet at 0.264 whose
INT8 box moved (IoU 0.74). The pins below leave a little room for other CPUs' INT8 kernels (with VNNI the
8-bit products add up without the int16 saturation of plain AVX2, so scores can shift by rounding).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from tests.unit.vision.paths import MODELS_DIR, ROOT
from vision.detections import Detections
from vision.images import read_image
from vision.registry import ModelRegistry

PHOTOS = sorted((ROOT / "tests" / "fixtures").rglob("*.jpg"))
CLEAR = 0.1  # above its class threshold by this much a detection is not borderline
MIN_IOU = 0.9
MAX_CONFIDENCE_SHIFT = 0.1


def _iou(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Pairwise IoU of (N, 4) and (M, 4) xyxy boxes."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area_a, area_b = (a[:, 2:] - a[:, :2]).prod(axis=1), (b[:, 2:] - b[:, :2]).prod(axis=1)
    iou: npt.NDArray[np.float64] = inter / (area_a[:, None] + area_b[None, :] - inter)
    return iou


def _twins(ours: Detections, theirs: Detections) -> dict[int, tuple[int, float]]:
    """Greedy one-to-one pairs of the same class, highest IoU first: our index → (their index, IoU)."""
    iou = _iou(ours.boxes.astype(np.float64), theirs.boxes.astype(np.float64))
    pairs = sorted(
        ((float(iou[i, j]), i, j) for i in range(len(ours)) for j in range(len(theirs))),
        reverse=True,
    )
    taken: set[int] = set()
    twins: dict[int, tuple[int, float]] = {}
    for value, i, j in pairs:
        same_class = ours.class_ids[i] == theirs.class_ids[j]
        if value >= MIN_IOU and same_class and i not in twins and j not in taken:
            twins[i] = (j, value)
            taken.add(j)
    return twins


@pytest.fixture(scope="module")
def detections() -> list[tuple[str, Detections, Detections, dict[str, float]]]:
    _, fp32 = ModelRegistry(MODELS_DIR, precision="fp32").detector("ppe", 2)
    entry, int8 = ModelRegistry(MODELS_DIR, precision="int8").detector("ppe", 2)
    assert entry.precision == "int8" and int8.model_path.name == "model.int8.onnx"
    thresholds = {name: entry.served_card.threshold(name) for name in entry.served_card.classes}
    found = []
    for photo in PHOTOS:
        image = read_image(photo, max_pixels=10_000_000)
        found.append((photo.name, fp32.detect(image), int8.detect(image), thresholds))
    return found


def test_clear_detections_have_an_int8_twin_and_at_most_one_borderline_differs(
    detections: list[tuple[str, Detections, Detections, dict[str, float]]],
) -> None:
    clear_pairs = 0
    for name, fp32, int8, thresholds in detections:
        unmatched = []
        for ours, theirs in ((fp32, int8), (int8, fp32)):
            twins = _twins(ours, theirs)
            lonely = 0
            for i in range(len(ours)):
                label = ours.class_names[int(ours.class_ids[i])]
                clear = float(ours.confidences[i]) >= thresholds[label] + CLEAR
                if i in twins:
                    shift = abs(float(ours.confidences[i] - theirs.confidences[twins[i][0]]))
                    assert not clear or shift <= MAX_CONFIDENCE_SHIFT, (name, label, shift)
                    clear_pairs += clear
                else:
                    assert not clear, f"{name}: {label} {ours.confidences[i]:.3f} has no twin"
                    lonely += 1
            unmatched.append(lonely)
        assert max(unmatched) <= 1, (name, unmatched)  # one borderline detection may move or flip
    assert clear_pairs >= 2 * 30  # both directions: the photos really hold confident detections


def test_photos_without_workers_stay_empty(
    detections: list[tuple[str, Detections, Detections, dict[str, float]]],
) -> None:
    empty = [(name, len(int8)) for name, fp32, int8, _ in detections if len(fp32) == 0]
    assert empty and all(count == 0 for _, count in empty)  # the corrosion photos
