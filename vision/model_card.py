"""Model cards: what a shipped ONNX model is, how it was trained, and how well it measured."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CARD_FILE = "card.json"
MODEL_FILE = "model.onnx"
# An INT8 variant sits beside the FP32 file of the same version, with its own card (same schema).
INT8_CARD_FILE = "card.int8.json"
INT8_MODEL_FILE = "model.int8.onnx"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClassMetrics(_Frozen):
    ap50: float = Field(ge=0, le=1)
    ap50_95: float | None = Field(default=None, ge=0, le=1)
    precision: float = Field(ge=0, le=1)
    recall: float = Field(ge=0, le=1)
    instances: int | None = Field(default=None, ge=0)


class ImageLevel(_Frozen):
    """A finding per photo: recall over photos that show it, false alarms over photos that do not."""

    finding: str
    positives: int = Field(ge=0)
    negatives: int = Field(ge=0)
    recall: float = Field(ge=0, le=1)
    false_alarm: float = Field(ge=0, le=1)


class ImageLevelPoint(_Frozen):
    threshold: float = Field(gt=0, lt=1)
    recall: float = Field(ge=0, le=1)
    false_alarm: float = Field(ge=0, le=1)


class OperatingPoint(_Frozen):
    """How the card's thresholds were chosen (``hazardeye operating-point``), with the curve behind them."""

    dataset: str
    split: str
    target_recall: float = Field(ge=0, le=1)
    max_false_alarm: float = Field(ge=0, le=1)
    met: bool
    thresholds: dict[str, float]
    result: ImageLevel
    curve: list[ImageLevelPoint] = []


class EvaluationMetrics(_Frozen):
    """Produced by ``hazardeye evaluate`` through hazardeye's own runtime on a held-out set."""

    dataset: str
    split: str
    images: int = Field(ge=0)
    map50: float = Field(ge=0, le=1)
    map50_95: float = Field(ge=0, le=1)
    per_class: dict[str, ClassMetrics] = {}
    image_level: ImageLevel | None = None  # at the card's thresholds, when the data labels the finding
    evaluated_at: datetime | None = None
    notes: str = ""


class TrainingProvenance(_Frozen):
    dataset: str
    architecture: str | None = None
    images: int | None = Field(default=None, ge=0)
    epochs: int | None = Field(default=None, ge=0)
    imgsz: int | None = Field(default=None, ge=1)
    device: str | None = None
    duration_s: float | None = Field(default=None, ge=0)
    notes: str = ""


class PromotionRecord(_Frozen):
    promoted_at: datetime
    forced: bool = False
    reason: str = ""
    previous_version: int | None = None


class Quantisation(_Frozen):
    """How an INT8 variant was made, and the FP32 figures it was gated against (measured in the same run,
    through the same runtime, on the same sets as the variant's own ``metrics`` / ``evaluations``)."""

    method: str
    calibration_images: int = Field(ge=1)
    calibration_source: str
    fp32_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    max_drop: float = Field(ge=0, le=1)  # per class, AP50 on the gate set (``reference[0]``)
    reference: list[EvaluationMetrics] = Field(min_length=1)


class ModelCard(_Frozen):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    version: int = Field(ge=1)
    task: Literal["detect"] = "detect"
    classes: list[str] = Field(min_length=1)
    input_size: tuple[int, int]
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    precision: Literal["fp32", "fp16", "int8"] = "fp32"
    thresholds: dict[str, float] = {}
    default_threshold: float = Field(default=0.25, gt=0, lt=1)
    iou_threshold: float = Field(default=0.45, gt=0, lt=1)
    operating_point: OperatingPoint | None = None
    training: TrainingProvenance
    metrics: EvaluationMetrics | None = None
    evaluations: list[EvaluationMetrics] = []
    promotion: PromotionRecord | None = None
    quantisation: Quantisation | None = None  # INT8 variants only
    licence: str
    created: datetime
    description: str = ""

    @model_validator(mode="after")
    def _thresholds_name_known_classes(self) -> ModelCard:
        unknown = set(self.thresholds) - set(self.classes)
        if unknown:
            raise ValueError(f"thresholds name classes the model does not have: {sorted(unknown)}")
        return self

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def threshold(self, class_name: str) -> float:
        return self.thresholds.get(class_name, self.default_threshold)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_card(path: Path) -> ModelCard:
    return ModelCard.model_validate_json(path.read_text(encoding="utf-8"))


def write_card(card: ModelCard, path: Path) -> None:
    path.write_text(card.model_dump_json(indent=2) + "\n", encoding="utf-8")
