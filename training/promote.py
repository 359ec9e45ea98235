"""Promotion gate and installation into ``models/<name>/<version>/`` (+ ``current``).

Gate: the candidate must not be worse than the current model *on the same evaluation set*: its mAP50-95
and its mAP50 may each be at most ``tolerance`` below the current model's (both evaluated now, through the
same runtime). ``force`` overrides a refusal, but only with a reason, which is recorded in the card.
An INT8 variant that passed its own per-class gate (``training.int8_variant``) is installed beside the FP32
file in the same version directory, with its own card.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from training.metrics import EvaluationMetrics
from vision.model_card import (
    CARD_FILE,
    INT8_CARD_FILE,
    INT8_MODEL_FILE,
    MODEL_FILE,
    ModelCard,
    PromotionRecord,
    read_card,
    sha256_of,
    write_card,
)


class PromotionRefusedError(RuntimeError):
    """The gate refused the candidate; the message gives both models' numbers."""


@dataclass(frozen=True)
class GateDecision:
    accepted: bool
    forced: bool
    message: str


@dataclass(frozen=True)
class Int8Variant:
    """A quantised file that passed the INT8 gate, and its card (version, sha256 and promotion record are
    taken from the FP32 model it is installed beside)."""

    path: Path
    card: ModelCard


def write_int8_variant(version_dir: Path, variant: Int8Variant, fp32_card: ModelCard) -> ModelCard:
    """Write ``model.int8.onnx`` + ``card.int8.json`` beside ``version_dir``'s FP32 model.

    The file goes first and the card last, each renamed into place: a reader that sees the card finds
    the file it describes. Refuses a variant quantised from another FP32 file than this version's.
    """
    q = variant.card.quantisation
    if q is None or q.fp32_sha256 != fp32_card.sha256:
        raise ValueError(f"the INT8 variant was not quantised from {fp32_card.ref}'s FP32 model (sha256)")
    card = variant.card.model_copy(
        update={
            "name": fp32_card.name,
            "version": fp32_card.version,
            "precision": "int8",
            "sha256": sha256_of(variant.path),
            "promotion": fp32_card.promotion,
        }
    )
    ModelCard.model_validate(card.model_dump())  # model_copy skips validation
    tmp_model, tmp_card = version_dir / f".{INT8_MODEL_FILE}.tmp", version_dir / f".{INT8_CARD_FILE}.tmp"
    shutil.copyfile(variant.path, tmp_model)
    tmp_model.replace(version_dir / INT8_MODEL_FILE)
    write_card(card, tmp_card)
    tmp_card.replace(version_dir / INT8_CARD_FILE)
    return card


def versions(models_dir: Path, name: str) -> list[int]:
    root = models_dir / name
    if not root.is_dir():
        return []
    return sorted(
        int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit() and (p / CARD_FILE).exists()
    )


def current_version(models_dir: Path, name: str) -> int | None:
    """The version named in ``models/<name>/current``, else the highest installed version."""
    pointer = models_dir / name / "current"
    if pointer.exists():
        text = pointer.read_text().strip()
        if text.isdigit() and (models_dir / name / text / CARD_FILE).exists():
            return int(text)
    found = versions(models_dir, name)
    return found[-1] if found else None


def gate(
    candidate: EvaluationMetrics,
    current: EvaluationMetrics | None,
    *,
    force: bool = False,
    reason: str = "",
    tolerance: float = 0.0,
) -> GateDecision:
    """Decide whether the candidate may replace the current model."""
    if force and not reason.strip():
        raise ValueError("--force needs --reason: a forced promotion must say why")
    if current is None:
        return GateDecision(True, False, "no current model: first version")
    worse = [
        f"{label} {cand:.4f} < current {cur:.4f}"
        for label, cand, cur in (
            ("mAP50-95", candidate.map50_95, current.map50_95),
            ("mAP50", candidate.map50, current.map50),
        )
        if cand < cur - tolerance
    ]
    if not worse:
        return GateDecision(
            True, False, f"not worse: mAP50-95 {candidate.map50_95:.4f} vs {current.map50_95:.4f}"
        )
    if force:
        return GateDecision(True, True, "forced despite: " + "; ".join(worse) + f" (reason: {reason})")
    return GateDecision(False, False, "refused: " + "; ".join(worse))


def install(
    models_dir: Path,
    card: ModelCard,
    onnx_path: Path,
    decision: GateDecision,
    reason: str = "",
    int8: Int8Variant | None = None,
) -> Path:
    """Write ``models/<name>/<next>/{model.onnx,card.json}`` (+ the INT8 variant) atomically, then point
    ``current`` at it."""
    if not decision.accepted:
        raise PromotionRefusedError(decision.message)
    root = models_dir / card.name
    root.mkdir(parents=True, exist_ok=True)
    previous = current_version(models_dir, card.name)
    existing = versions(models_dir, card.name)
    version = (max(existing) if existing else 0) + 1
    final = card.model_copy(
        update={
            "version": version,
            "sha256": sha256_of(onnx_path),
            "promotion": PromotionRecord(
                promoted_at=datetime.now(UTC),
                forced=decision.forced,
                reason=reason if decision.forced else decision.message,
                previous_version=previous,
            ),
        }
    )
    ModelCard.model_validate(final.model_dump())  # model_copy skips validation; the card must be valid
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    staging.chmod(0o755)  # mkdtemp makes it 0700; the service may run as another user
    shutil.copyfile(onnx_path, staging / MODEL_FILE)
    write_card(final, staging / CARD_FILE)
    if int8 is not None:
        write_int8_variant(staging, int8, final)
    target = root / str(version)
    staging.rename(target)  # readers never see a half-written version directory
    tmp_pointer = root / ".current.tmp"
    tmp_pointer.write_text(f"{version}\n")
    tmp_pointer.replace(root / "current")
    return target


def current_card(models_dir: Path, name: str) -> tuple[ModelCard, Path] | None:
    """The current card and its model path, if any version is installed."""
    version = current_version(models_dir, name)
    if version is None:
        return None
    d = models_dir / name / str(version)
    return read_card(d / CARD_FILE), d / MODEL_FILE
