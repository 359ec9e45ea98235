"""Glue between the CLI and the evaluator: build hazardeye's own ONNX detector and evaluate a dataset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from training.evaluate import EvaluationReport, collect, run_evaluation
from training.metrics import ImageResult
from training.yolo_dataset import DatasetReport, YoloDataset, load_split
from vision.model_card import ClassMetrics as CardClassMetrics
from vision.model_card import EvaluationMetrics as CardMetrics
from vision.onnx_detector import DetectorOptions, OnnxDetector

EVAL_CONFIDENCE_FLOOR = 0.001  # low floor so the PR curve reaches full recall, like COCO/ultralytics val


@dataclass(frozen=True)
class ModelUnderTest:
    path: Path
    classes: tuple[str, ...]
    input_size: tuple[int, int]
    thresholds: tuple[float, ...]  # deployed per-class thresholds (for P/R and the confusion matrix)
    label: str


def _floor_detector(model: ModelUnderTest, threads: int | None) -> OnnxDetector:
    return OnnxDetector(
        model.path,
        model.classes,
        model.input_size,
        default_threshold=EVAL_CONFIDENCE_FLOOR,
        options=DetectorOptions(intra_op_threads=threads, max_detections=300),
    )


def _usable_split(data: Path, split: str) -> tuple[YoloDataset, DatasetReport]:
    dataset, report = load_split(data, split)
    if not dataset.items:
        raise ValueError(f"{data} [{split}]: no usable images to evaluate")
    return dataset, report


def collect_results(
    model: ModelUnderTest, data: Path, split: str, *, threads: int | None = None
) -> tuple[YoloDataset, list[ImageResult]]:
    """Every prediction above the evaluation floor, per image, in the dataset's class ids."""
    dataset, _ = _usable_split(data, split)
    return dataset, collect(_floor_detector(model, threads), dataset, model.classes)


def evaluate_model(
    model: ModelUnderTest, data: Path, split: str, out_dir: Path, *, threads: int | None = None
) -> EvaluationReport:
    dataset, report = _usable_split(data, split)
    detector = _floor_detector(model, threads)
    return run_evaluation(
        detector,
        dataset,
        report,
        model_label=model.label,
        model_classes=model.classes,
        thresholds=model.thresholds,
        split=split,
        out_dir=out_dir,
    )


def to_card_metrics(report: EvaluationReport, dataset_label: str, notes: str = "") -> CardMetrics:
    """Our evaluation → the model card's metrics block (classes without ground truth are left out)."""
    m = report.metrics
    per_class = {
        c.name: CardClassMetrics(
            ap50=c.ap50, ap50_95=c.ap50_95, precision=c.precision, recall=c.recall, instances=c.ground_truths
        )
        for c in m.per_class
        if c.ground_truths > 0
    }
    return CardMetrics(
        dataset=dataset_label,
        split=report.split,
        images=m.images,
        map50=m.map50,
        map50_95=m.map50_95,
        per_class=per_class,
        image_level=report.image_level,
        evaluated_at=datetime.now(UTC),
        notes=notes,
    )


def thresholds_for(classes: Sequence[str], mapping: dict[str, float], default: float) -> tuple[float, ...]:
    return tuple(mapping.get(c, default) for c in classes)
