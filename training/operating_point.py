"""The deployed operating point: per-class thresholds chosen on held-out data for a stated image-level target.

What a plant asks of the PPE model is per photo, not per box: "was the worker without a helmet flagged?"
(recall over photos that show one) and "how often is a compliant photo flagged?" (false alarms over photos
that show none). A photo is flagged when hazardeye's own PPE rules (``vision.ppe``: heads grouped with
helmets, the more confident wins) produce a ``ppe.no_helmet`` finding from the detections above the
thresholds: exactly what the service does with an upload.

Choice: every other class gets the threshold that maximises its box F1 (IoU 0.5); then the ``head``
threshold is the highest one that still reaches the recall target, which is also the one with the fewest
false alarms among those. When no threshold meets both targets, the one with the best recall within the
false-alarm limit is taken (the highest threshold within one recall point of it: below that, recall
has saturated and only false alarms grow) and the choice says the target was not met.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from training.metrics import ImageResult, scored_matches
from vision.detections import Detections
from vision.model_card import ImageLevel, ImageLevelPoint, OperatingPoint
from vision.ppe import NO_HELMET, ppe_findings

HEAD = "head"
CURVE_THRESHOLDS = tuple(round(float(t), 2) for t in np.arange(0.05, 0.951, 0.01))


@dataclass(frozen=True)
class Target:
    min_recall: float = 0.90
    max_false_alarm: float = 0.10
    # When the target cannot be met: recall this close to the best reachable one is as good, and the
    # highest such threshold is taken (recall saturates while false alarms keep climbing below it).
    recall_tolerance: float = 0.01


def _detections(result: ImageResult, names: Sequence[str], thresholds: Sequence[float]) -> Detections:
    keep = result.pred_scores >= np.asarray(thresholds, np.float64)[result.pred_classes]
    return Detections(
        result.pred_boxes[keep].astype(np.float32).reshape(-1, 4),
        result.pred_scores[keep].astype(np.float32),
        result.pred_classes[keep].astype(np.int64),
        tuple(names),
    )


def flagged(result: ImageResult, names: Sequence[str], thresholds: Sequence[float]) -> bool:
    """Would the service report ``ppe.no_helmet`` for this photo at these per-class thresholds?"""
    return any(f.kind == NO_HELMET for f in ppe_findings(_detections(result, names, thresholds)))


def image_level(
    results: Sequence[ImageResult], names: Sequence[str], thresholds: Sequence[float]
) -> ImageLevel | None:
    """Photo-level no-helmet recall and false-alarm rate; None when the data has no ``head`` class."""
    if HEAD not in names:
        return None
    head = names.index(HEAD)
    positive = [bool((r.gt_classes == head).any()) for r in results]
    hits = [flagged(r, names, thresholds) for r in results]
    pos = sum(positive)
    neg = len(results) - pos
    tp = sum(h and p for h, p in zip(hits, positive, strict=True))
    fp = sum(h and not p for h, p in zip(hits, positive, strict=True))
    return ImageLevel(
        finding=NO_HELMET,
        positives=pos,
        negatives=neg,
        recall=tp / pos if pos else 0.0,
        false_alarm=fp / neg if neg else 0.0,
    )


def f1_threshold(results: Sequence[ImageResult], cls: int, default: float) -> float:
    """The confidence that maximises box F1 at IoU 0.5 (``default`` when the class is unlabelled)."""
    scores, tp, n_gt = scored_matches(results, cls, 0.5)
    if n_gt == 0 or len(scores) == 0:
        return default
    order = np.argsort(-scores, kind="stable")
    s, hit = scores[order], tp[order].astype(np.float64)
    ctp = np.cumsum(hit)
    precision = ctp / np.arange(1, len(s) + 1)
    recall = ctp / n_gt
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best = int(np.argmax(f1))
    return float(np.clip(round(float(s[best]), 3), 0.05, 0.95))


def choose(
    results: Sequence[ImageResult],
    names: Sequence[str],
    *,
    target: Target,
    dataset: str,
    split: str,
    default: float = 0.25,
) -> OperatingPoint:
    """Thresholds for every class of ``names`` (the dataset's); head's is picked on the image-level curve."""
    if HEAD not in names:
        raise ValueError(f"no '{HEAD}' class in {list(names)}: the no-helmet operating point needs it")
    head = names.index(HEAD)
    base = [f1_threshold(results, c, default) for c in range(len(names))]
    curve: list[ImageLevelPoint] = []
    for t in CURVE_THRESHOLDS:
        thresholds = [*base[:head], t, *base[head + 1 :]]
        level = image_level(results, names, thresholds)
        assert level is not None
        curve.append(ImageLevelPoint(threshold=t, recall=level.recall, false_alarm=level.false_alarm))
    meeting = [p for p in curve if p.recall >= target.min_recall and p.false_alarm <= target.max_false_alarm]
    if meeting:
        chosen, met = max(meeting, key=lambda p: p.threshold), True
    else:
        allowed = [p for p in curve if p.false_alarm <= target.max_false_alarm] or curve
        best = max(p.recall for p in allowed)
        near = [p for p in allowed if p.recall >= best - target.recall_tolerance - 1e-12]
        chosen, met = max(near, key=lambda p: p.threshold), False
    final = [*base[:head], chosen.threshold, *base[head + 1 :]]
    level = image_level(results, names, final)
    assert level is not None
    return OperatingPoint(
        dataset=dataset,
        split=split,
        target_recall=target.min_recall,
        max_false_alarm=target.max_false_alarm,
        met=met,
        thresholds=dict(zip(names, final, strict=True)),
        result=level,
        curve=curve,
    )
