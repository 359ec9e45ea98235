"""Evaluate a detector on a YOLO dataset through hazardeye's own runtime and write a JSON report.

The detector is anything with ``detect_many(images) -> list[Detections]`` (in practice
``vision.onnx_detector.OnnxDetector`` run at a low confidence floor so the PR curve is complete).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from training.metrics import EvaluationMetrics, ImageResult, evaluate
from training.operating_point import image_level
from training.plots import write_plots
from training.yolo_dataset import DatasetReport, YoloDataset
from vision.detections import Detections
from vision.images import BgrImage, read_image
from vision.model_card import ImageLevel

_MAX_PIXELS = 50_000_000


class BatchDetector(Protocol):
    def detect_many(self, images: Sequence[BgrImage]) -> list[Detections]: ...


class ClassMismatchError(ValueError):
    """The model's classes and the dataset's classes cannot be lined up by name."""


@dataclass(frozen=True)
class EvaluationReport:
    model: str
    dataset: str
    split: str
    metrics: EvaluationMetrics
    dataset_issues: int
    pr_curve_png: str
    confusion_png: str
    image_level: ImageLevel | None = None  # photo-level no-helmet recall / false alarms at the thresholds

    def to_json(self) -> str:
        data = asdict(self)
        data["metrics"].pop("pr_curves")  # raw curves are in the PNG; keep the JSON readable
        data["image_level"] = self.image_level.model_dump() if self.image_level else None
        return json.dumps(data, indent=2, allow_nan=True)


def class_mapping(model_classes: Sequence[str], dataset_classes: Sequence[str]) -> np.ndarray:
    """Model class id → dataset class id, by name. Raises if a dataset class is missing from the model."""
    missing = [c for c in dataset_classes if c not in model_classes]
    if missing:
        raise ClassMismatchError(
            f"model classes {list(model_classes)} do not cover dataset classes {list(dataset_classes)} "
            f"(missing: {missing})"
        )
    return np.array(
        [dataset_classes.index(c) if c in dataset_classes else -1 for c in model_classes], np.int64
    )


def collect(
    detector: BatchDetector, dataset: YoloDataset, model_classes: Sequence[str], batch: int = 8
) -> list[ImageResult]:
    """Run the detector over the dataset, mapping predicted classes onto the dataset's ids."""
    mapping = class_mapping(model_classes, dataset.names)
    results: list[ImageResult] = []
    items = dataset.items
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        images = [read_image(it.image, max_pixels=_MAX_PIXELS) for it in chunk]
        for item, image, det in zip(chunk, images, detector.detect_many(images), strict=True):
            h, w = image.shape[:2]
            gt = np.array([b.xyxy(w, h) for b in item.boxes], np.float64).reshape(-1, 4)
            gc = np.array([b.cls for b in item.boxes], np.int64)
            pc = mapping[det.class_ids] if len(det) else np.zeros(0, np.int64)
            keep = pc >= 0  # model classes the dataset does not label are not scored
            results.append(
                ImageResult(
                    gt,
                    gc,
                    det.boxes.astype(np.float64)[keep],
                    det.confidences.astype(np.float64)[keep],
                    pc[keep],
                )
            )
    return results


def run_evaluation(
    detector: BatchDetector,
    dataset: YoloDataset,
    report: DatasetReport,
    *,
    model_label: str,
    model_classes: Sequence[str],
    thresholds: Sequence[float],
    split: str,
    out_dir: Path,
) -> EvaluationReport:
    """Evaluate and write ``report.json``, ``pr_curve.png`` and ``confusion_matrix.png`` to ``out_dir``."""
    mapping = class_mapping(model_classes, dataset.names)
    ds_thresholds = [0.25] * len(dataset.names)
    for model_id, ds_id in enumerate(mapping):
        if ds_id >= 0:
            ds_thresholds[int(ds_id)] = float(thresholds[model_id])
    results = collect(detector, dataset, model_classes)
    metrics = evaluate(results, dataset.names, ds_thresholds)
    pr, cm = write_plots(metrics, dataset.names, out_dir)
    result = EvaluationReport(
        model_label,
        str(report.source),
        split,
        metrics,
        report.errors,
        str(pr),
        str(cm),
        image_level(results, dataset.names, ds_thresholds),
    )
    (out_dir / "report.json").write_text(result.to_json())
    return result
