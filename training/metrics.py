"""Detection metrics in numpy: COCO-style AP (101-point interpolation), mAP50, mAP50-95, P/R, confusion.

AP definition (documented because every toolkit differs slightly): per class, detections over the whole
set are sorted by confidence and greedily matched (highest IoU first among still-unmatched ground truths of
that class in the same image, IoU ≥ t); precision is made monotone (running max from the right) and
sampled at 101 recall points 0, 0.01, …, 1 — the COCO rule. mAP50-95 averages t = 0.50, 0.55, …, 0.95.
A class with no ground truth has AP undefined (NaN) and is left out of the means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IOU_THRESHOLDS = np.round(np.arange(0.5, 0.96, 0.05), 2)
_RECALL_POINTS = np.linspace(0.0, 1.0, 101)


@dataclass(frozen=True)
class ImageResult:
    """Ground truth and predictions of one image, both as xyxy pixel boxes."""

    gt_boxes: FloatArray  # (G, 4)
    gt_classes: npt.NDArray[np.int64]  # (G,)
    pred_boxes: FloatArray  # (P, 4)
    pred_scores: FloatArray  # (P,)
    pred_classes: npt.NDArray[np.int64]  # (P,)


@dataclass(frozen=True)
class ClassMetrics:
    name: str
    ground_truths: int
    ap50: float
    ap50_95: float
    precision: float  # at the deployed confidence threshold, IoU 0.5
    recall: float
    threshold: float


@dataclass(frozen=True)
class PrCurve:
    name: str
    recall: tuple[float, ...]
    precision: tuple[float, ...]


@dataclass(frozen=True)
class EvaluationMetrics:
    images: int
    map50: float
    map50_95: float
    per_class: tuple[ClassMetrics, ...]
    pr_curves: tuple[PrCurve, ...]  # at IoU 0.5
    confusion: tuple[tuple[int, ...], ...]  # (C+1)x(C+1): rows predicted, cols true; last = background


def box_iou(a: FloatArray, b: FloatArray) -> FloatArray:
    """Pairwise IoU of (N,4) and (M,4) xyxy boxes → (N, M)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(axis=1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _match(res: ImageResult, cls: int, iou_t: float) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Scores and TP flags of one image's class-``cls`` predictions, greedy by descending score."""
    pm = res.pred_classes == cls
    scores = res.pred_scores[pm]
    order = np.argsort(-scores, kind="stable")
    boxes, scores = res.pred_boxes[pm][order], scores[order]
    gt = res.gt_boxes[res.gt_classes == cls]
    iou = box_iou(boxes, gt)
    used = np.zeros(len(gt), bool)
    tp = np.zeros(len(boxes), bool)
    for i in range(len(boxes)):
        if len(gt) == 0:
            break
        cand = np.where(used, -1.0, iou[i])
        j = int(np.argmax(cand))
        if cand[j] >= iou_t:
            used[j] = True
            tp[i] = True
    return scores, tp


def scored_matches(
    results: Sequence[ImageResult], cls: int, iou_t: float
) -> tuple[FloatArray, npt.NDArray[np.bool_], int]:
    """Pooled scores and TP flags of class ``cls`` over all images, and its ground-truth count."""
    matched = [_match(r, cls, iou_t) for r in results]
    scores = np.concatenate([m[0] for m in matched]) if matched else np.zeros(0)
    tp = np.concatenate([m[1] for m in matched]) if matched else np.zeros(0, bool)
    return scores, tp, int(sum(int((r.gt_classes == cls).sum()) for r in results))


def average_precision(
    scores: FloatArray, tp: npt.NDArray[np.bool_], n_gt: int
) -> tuple[float, FloatArray, FloatArray]:
    """COCO 101-point AP from pooled detections; also returns the raw (recall, precision) curve."""
    if n_gt == 0:
        return float("nan"), np.zeros(0), np.zeros(0)
    order = np.argsort(-scores, kind="stable")
    tp_sorted = tp[order].astype(np.float64)
    ctp = np.cumsum(tp_sorted)
    cfp = np.cumsum(1.0 - tp_sorted)
    recall = ctp / n_gt
    precision = ctp / np.maximum(ctp + cfp, 1e-12)
    if len(precision) == 0:
        return 0.0, recall, precision
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    idx = np.searchsorted(recall, _RECALL_POINTS, side="left")
    sampled = np.where(idx < len(envelope), envelope[np.minimum(idx, len(envelope) - 1)], 0.0)
    return float(sampled.mean()), recall, precision


def _confusion(results: Sequence[ImageResult], n: int, thresholds: Sequence[float]) -> npt.NDArray[np.int64]:
    """Class-agnostic greedy matching at IoU 0.5 of predictions above their class threshold."""
    cm = np.zeros((n + 1, n + 1), np.int64)
    th = np.asarray(thresholds)
    for r in results:
        keep = r.pred_scores >= th[r.pred_classes] if len(r.pred_classes) else np.zeros(0, bool)
        pb, pc, ps = r.pred_boxes[keep], r.pred_classes[keep], r.pred_scores[keep]
        order = np.argsort(-ps, kind="stable")
        pb, pc = pb[order], pc[order]
        iou = box_iou(pb, r.gt_boxes)
        used = np.zeros(len(r.gt_boxes), bool)
        for i in range(len(pb)):
            cand = np.where(used, -1.0, iou[i]) if len(r.gt_boxes) else np.zeros(0)
            j = int(np.argmax(cand)) if len(cand) else -1
            if j >= 0 and cand[j] >= 0.5:
                used[j] = True
                cm[pc[i], r.gt_classes[j]] += 1
            else:
                cm[pc[i], n] += 1
        for k in np.nonzero(~used)[0]:
            cm[n, r.gt_classes[k]] += 1
    return cm


def evaluate(
    results: Sequence[ImageResult], names: Sequence[str], thresholds: Sequence[float]
) -> EvaluationMetrics:
    """All metrics for a set of images; ``thresholds`` are the deployed per-class confidences."""
    per_class: list[ClassMetrics] = []
    curves: list[PrCurve] = []
    for c, name in enumerate(names):
        n_gt = int(sum(int((r.gt_classes == c).sum()) for r in results))
        aps: list[float] = []
        p_at = r_at = 0.0
        for t in IOU_THRESHOLDS:
            matched = [_match(r, c, float(t)) for r in results]
            scores = np.concatenate([m[0] for m in matched]) if matched else np.zeros(0)
            tp = np.concatenate([m[1] for m in matched]) if matched else np.zeros(0, bool)
            ap, rec, prec = average_precision(scores, tp, n_gt)
            aps.append(ap)
            if t == 0.5:
                curves.append(PrCurve(name, tuple(float(v) for v in rec), tuple(float(v) for v in prec)))
                above = scores >= thresholds[c]
                n_tp = int(tp[above].sum())
                p_at = n_tp / int(above.sum()) if above.any() else 0.0
                r_at = n_tp / n_gt if n_gt else float("nan")
        per_class.append(
            ClassMetrics(name, n_gt, aps[0], float(np.mean(aps)), p_at, r_at, float(thresholds[c]))
        )
    valid = [m for m in per_class if m.ground_truths > 0]
    map50 = float(np.mean([m.ap50 for m in valid])) if valid else float("nan")
    map5095 = float(np.mean([m.ap50_95 for m in valid])) if valid else float("nan")
    cm = _confusion(results, len(names), thresholds)
    return EvaluationMetrics(
        len(results),
        map50,
        map5095,
        tuple(per_class),
        tuple(curves),
        tuple(tuple(int(v) for v in row) for row in cm),
    )
