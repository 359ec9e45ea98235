"""Build the INT8 variant of a model: quantise, gate per class on held-out data, write its card.

Used by ``hazardeye promote`` (every promoted model gets a variant when the gate passes) and by
``hazardeye quantize`` (adds one to an installed version). FP32 and INT8 are evaluated through the same
runtime on the same sets; the variant's card carries its own figures and the FP32 ones it was gated against.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from training.evaluate import EvaluationReport
from training.evaluation_service import ModelUnderTest, evaluate_model, thresholds_for, to_card_metrics
from training.export import QUANTISATION_METHOD, Int8Outcome, gated_int8
from training.promote import Int8Variant
from training.yolo_dataset import split_images
from vision.model_card import ModelCard, Quantisation


@dataclass(frozen=True)
class EvalSet:
    """One held-out split; ``label`` is how the card names it (e.g. ``datasets/hardhat_valid.yaml``)."""

    data: Path
    split: str
    label: str

    @property
    def slug(self) -> str:
        return f"{self.data.stem}_{self.split}"


@dataclass(frozen=True)
class Calibration:
    images: tuple[Path, ...]
    source: str  # what the images are, for the card


@dataclass(frozen=True)
class Int8Build:
    outcome: Int8Outcome
    variant: Int8Variant | None  # None: refused (the quantised file is deleted)
    fp32: tuple[EvaluationReport, ...]  # gate set first, then the other sets
    int8: tuple[EvaluationReport, ...]  # the gate set only when refused


def describe_calibration(dirs: Sequence[Path], images: Sequence[Path]) -> Calibration:
    """The images with the card's account of them: how many came from each directory."""
    counts = ", ".join(f"{sum(1 for p in images if p.is_relative_to(d))} of {d}" for d in dirs)
    return Calibration(tuple(images), f"{counts} (spread evenly by file name)")


def labelled_ap50(report: EvaluationReport) -> dict[str, float]:
    """AP50 of each class the evaluated set labels (a class without ground truth has no AP)."""
    return {c.name: c.ap50 for c in report.metrics.per_class if c.ground_truths > 0}


def check_held_out(calibration: Sequence[Path], sets: Sequence[EvalSet]) -> None:
    """Calibrating on the gate's own images would let the gate grade its own homework: refuse that."""
    calib = {p.resolve() for p in calibration}
    for s in sets:
        shared = calib & {p.resolve() for p in split_images(s.data, s.split)}
        if shared:
            raise ValueError(
                f"{len(shared)} calibration image(s) are in the held-out set {s.label} [{s.split}] "
                f"(e.g. {sorted(shared)[0]}): calibrate on training images"
            )


def build_int8_variant(
    fp32: Path,
    card: ModelCard,
    calibration: Calibration,
    gate_set: EvalSet,
    also: Sequence[EvalSet] = (),
    *,
    work_dir: Path,
    max_drop: float = 0.01,
    fp32_reports: Mapping[EvalSet, EvaluationReport] | None = None,
    threads: int | None = None,
) -> Int8Build:
    """Quantise ``fp32`` (described by ``card``) into ``work_dir`` and gate it on ``gate_set``.

    ``fp32_reports``: evaluations of this very FP32 file the caller already ran (promotion has them).
    """
    check_held_out(calibration.images, [gate_set, *also])
    known = dict(fp32_reports or {})
    thresholds = thresholds_for(card.classes, card.thresholds, card.default_threshold)
    work_dir.mkdir(parents=True, exist_ok=True)
    out = work_dir / "model.int8.onnx"

    def evaluate(path: Path, precision: str, s: EvalSet) -> EvaluationReport:
        label = f"{card.ref} {precision}"
        mut = ModelUnderTest(path, tuple(card.classes), card.input_size, thresholds, label)
        return evaluate_model(mut, s.data, s.split, work_dir / f"{precision}_{s.slug}", threads=threads)

    def fp32_report(s: EvalSet) -> EvaluationReport:
        if s not in known:
            known[s] = evaluate(fp32, "fp32", s)
        return known[s]

    int8_reports: dict[EvalSet, EvaluationReport] = {}

    def ap50_of(path: Path) -> dict[str, float]:  # INT8 only: FP32's figures are passed in
        int8_reports[gate_set] = evaluate(path, "int8", gate_set)
        return labelled_ap50(int8_reports[gate_set])

    outcome = gated_int8(
        fp32,
        out,
        calibration.images,
        ap50_of,
        max_drop=max_drop,
        imgsz=card.input_size[0],
        fp32_ap50=labelled_ap50(fp32_report(gate_set)),
    )
    if not outcome.kept:
        return Int8Build(outcome, None, (fp32_report(gate_set),), (int8_reports[gate_set],))
    for s in also:
        int8_reports[s] = evaluate(out, "int8", s)
    sets = [gate_set, *also]
    variant_card = card.model_copy(
        update={
            "precision": "int8",
            "metrics": to_card_metrics(int8_reports[gate_set], gate_set.label),
            "evaluations": [to_card_metrics(int8_reports[s], s.label) for s in also],
            "quantisation": Quantisation(
                method=QUANTISATION_METHOD,
                calibration_images=len(calibration.images),
                calibration_source=calibration.source,
                fp32_sha256=card.sha256,
                max_drop=max_drop,
                reference=[to_card_metrics(fp32_report(s), s.label, "FP32, same run") for s in sets],
            ),
            "created": datetime.now(UTC),
        }
    )
    return Int8Build(
        outcome,
        Int8Variant(out, variant_card),
        tuple(fp32_report(s) for s in sets),
        tuple(int8_reports[s] for s in sets),
    )
