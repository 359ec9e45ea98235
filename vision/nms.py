"""Non-maximum suppression in numpy: greedy, IoU-based, class-wise via per-class coordinate offsets."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def box_iou(box: npt.NDArray[np.float32], boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """IoU of one xyxy box against many (M, 4)."""
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    intersection = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - intersection
    return np.where(union > 0, intersection / np.maximum(union, 1e-12), 0.0).astype(np.float32)


def nms(
    boxes: npt.NDArray[np.float32], scores: npt.NDArray[np.float32], iou_threshold: float
) -> npt.NDArray[np.int64]:
    """Indices of the boxes kept by greedy NMS, highest score first."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        if order.size == 1:
            break
        rest = order[1:]
        order = rest[box_iou(boxes[best], boxes[rest]) <= iou_threshold]
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
    offset = float(boxes.max()) + 1.0
    shifted = boxes + (class_ids.astype(np.float32) * offset)[:, None]
    return nms(shifted, scores, iou_threshold)
