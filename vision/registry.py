"""Model registry over ``models/``: ``<name>/<version>/{model.onnx, card.json}``.

The current version of a model is the one named in ``<name>/current`` (one line) if present, else the
highest version. ``reload()`` re-scans the folder cheaply, so a running service picks up a model that
``hazardeye promote`` installed without restarting; detectors are built lazily and cached per version.

A version may carry an INT8 variant beside its FP32 file (``model.int8.onnx`` + ``card.int8.json``, gated
on held-out AP50 per class when it was made). ``precision="auto"`` serves it where the CPU has 8-bit
dot-product instructions (VNNI / AMX: see ``vision.cpu_features``) and FP32 elsewhere; "fp32" / "int8" pin
one.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from vision.cpu_features import FAST_INT8_FLAGS, cpu_flags, has_fast_int8
from vision.model_card import (
    CARD_FILE,
    INT8_CARD_FILE,
    INT8_MODEL_FILE,
    MODEL_FILE,
    ModelCard,
    read_card,
    sha256_of,
)
from vision.onnx_detector import DetectorOptions, ModelError, OnnxDetector

CURRENT_FILE = "current"
Precision = Literal["fp32", "int8"]
PrecisionSetting = Literal["auto", "fp32", "int8"]

log = logging.getLogger(__name__)


def choose_precision(setting: PrecisionSetting, *, has_int8: bool, flags: Set[str]) -> tuple[Precision, str]:
    """The precision to serve and why (for the log and the API)."""
    if not has_int8:
        if setting == "int8":
            return "fp32", "int8 pinned, but this version has no INT8 variant: serving FP32"
        return "fp32", "no INT8 variant"
    if setting != "auto":
        return setting, f"{setting} pinned"
    if has_fast_int8(flags):
        return "int8", f"auto: the CPU has {', '.join(sorted(FAST_INT8_FLAGS & flags))}"
    return "fp32", "auto: the CPU has no VNNI/AMX (INT8 is served by default only there)"


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One installed version. ``card`` / ``model_path`` are its FP32 reference; ``served_card`` and
    ``served_path`` are what ``ModelRegistry.detector`` loads (the INT8 variant if ``precision`` is int8)."""

    name: str
    version: int
    directory: Path
    card: ModelCard
    current: bool
    int8_card: ModelCard | None = None
    precision: Precision = "fp32"
    precision_reason: str = ""

    @property
    def model_path(self) -> Path:
        return self.directory / MODEL_FILE

    @property
    def precisions(self) -> tuple[Precision, ...]:
        return ("fp32", "int8") if self.int8_card is not None else ("fp32",)

    @property
    def served_card(self) -> ModelCard:
        return self.int8_card if self.precision == "int8" and self.int8_card is not None else self.card

    @property
    def served_path(self) -> Path:
        return self.directory / (INT8_MODEL_FILE if self.served_card is self.int8_card else MODEL_FILE)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class RegistryProblem:
    """A model folder that could not be listed (bad card, missing file); reported, not fatal."""

    path: Path
    message: str


class ModelRegistry:
    def __init__(
        self,
        models_dir: Path,
        *,
        options: DetectorOptions | None = None,
        precision: PrecisionSetting = "auto",
        flags: Set[str] | None = None,
    ) -> None:
        """``flags``: the CPU's flag set (tests); default: this machine's ``/proc/cpuinfo``."""
        self.models_dir = models_dir
        self.precision = precision
        self._flags = frozenset(cpu_flags() if flags is None else flags)
        self._options = options or DetectorOptions()
        self._lock = threading.Lock()
        self._entries: dict[str, list[ModelEntry]] = {}
        self._problems: list[RegistryProblem] = []
        self._detectors: dict[tuple[str, int, str, float | None], OnnxDetector] = {}
        self._said: set[tuple[str, str]] = set()  # (ref, reason) already logged: once, not every reload
        self.reload()

    def reload(self) -> None:
        """Re-scan the models folder. Cached detectors of unchanged models are kept."""
        scanned, problems = _scan(self.models_dir)
        entries = {name: [self._with_precision(e) for e in found] for name, found in scanned.items()}
        with self._lock:
            self._entries, self._problems = entries, problems

    def _with_precision(self, entry: ModelEntry) -> ModelEntry:
        precision, reason = choose_precision(
            self.precision, has_int8=entry.int8_card is not None, flags=self._flags
        )
        relevant = entry.int8_card is not None or self.precision == "int8"
        if relevant and (entry.ref, reason) not in self._said:
            self._said.add((entry.ref, reason))
            level = logging.WARNING if self.precision == "int8" and precision == "fp32" else logging.INFO
            log.log(level, "%s: serving %s (%s)", entry.ref, precision.upper(), reason)
        return dataclasses.replace(entry, precision=precision, precision_reason=reason)

    @property
    def problems(self) -> list[RegistryProblem]:
        return list(self._problems)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[ModelEntry]:
        return [entry for name in self.names() for entry in self._entries[name]]

    def get(self, name: str, version: int | None = None) -> ModelEntry:
        versions = self._entries.get(name)
        if not versions:
            known = ", ".join(self.names()) or "none"
            raise ModelError(f"no model named {name!r} in {self.models_dir} (available: {known})")
        if version is None:
            return next((e for e in versions if e.current), versions[-1])
        for entry in versions:
            if entry.version == version:
                return entry
        raise ModelError(f"model {name!r} has no version {version} (have {[e.version for e in versions]})")

    def detector(
        self, name: str, version: int | None = None, floor: float | None = None
    ) -> tuple[ModelEntry, OnnxDetector]:
        """The entry and a ready detector; the ONNX file's sha256 is checked against the card first.
        ``floor``: one confidence threshold for every class instead of the card's (face blurring, which
        would rather hide a shadow than miss a face)."""
        entry = self.get(name, version)
        key = (entry.name, entry.version, entry.served_card.sha256, floor)
        with self._lock:
            cached = self._detectors.get(key)
        if cached is not None:
            return entry, cached
        detector = load_detector(entry, self._options, floor)
        with self._lock:
            self._detectors[key] = detector
        return entry, detector


def load_detector(
    entry: ModelEntry, options: DetectorOptions | None = None, floor: float | None = None
) -> OnnxDetector:
    path, card = entry.served_path, entry.served_card
    if not path.is_file():
        raise ModelError(f"{path}: model file is missing")
    actual = sha256_of(path)
    if actual != card.sha256:
        raise ModelError(
            f"{path}: sha256 {actual[:12]}… does not match the card's {card.sha256[:12]}… "
            "(file corrupt or replaced)"
        )
    return OnnxDetector(
        path,
        card.classes,
        card.input_size,
        thresholds=card.thresholds if floor is None else {},
        default_threshold=card.default_threshold if floor is None else floor,
        # The card's IoU threshold wins; every other option is the caller's.
        options=dataclasses.replace(options or DetectorOptions(), iou_threshold=card.iou_threshold),
    )


def _scan(models_dir: Path) -> tuple[dict[str, list[ModelEntry]], list[RegistryProblem]]:
    entries: dict[str, list[ModelEntry]] = {}
    problems: list[RegistryProblem] = []
    if not models_dir.is_dir():
        return entries, [RegistryProblem(models_dir, "models folder does not exist")]
    for model_dir in sorted(p for p in models_dir.iterdir() if p.is_dir()):
        current = _read_current(model_dir)
        found: list[tuple[int, Path, ModelCard]] = []
        for version_dir in model_dir.iterdir():
            if not (version_dir.is_dir() and version_dir.name.isdigit()):
                continue
            try:
                card = read_card(version_dir / CARD_FILE)
            except (OSError, ValidationError, ValueError) as exc:
                problems.append(RegistryProblem(version_dir, f"unreadable card: {str(exc).splitlines()[0]}"))
                continue
            if card.name != model_dir.name or card.version != int(version_dir.name):
                problems.append(RegistryProblem(version_dir, f"card says {card.ref}, folder disagrees"))
                continue
            found.append((card.version, version_dir, card))
        found.sort(key=lambda item: item[0])
        if found:
            chosen = current if current in {v for v, _, _ in found} else found[-1][0]
            entries[model_dir.name] = [
                ModelEntry(card.name, v, path, card, v == chosen, _int8_card(path, card, problems))
                for v, path, card in found
            ]
    return entries, problems


def _int8_card(version_dir: Path, fp32: ModelCard, problems: list[RegistryProblem]) -> ModelCard | None:
    """The version's INT8 card if it has a usable one; a bad one is a problem and FP32 is served."""
    path = version_dir / INT8_CARD_FILE
    if not path.exists():
        return None
    try:
        card = read_card(path)
    except (OSError, ValidationError, ValueError) as exc:
        problems.append(RegistryProblem(path, f"unreadable INT8 card: {str(exc).splitlines()[0]}"))
        return None
    same = (card.name, card.version, card.classes, card.input_size) == (
        fp32.name,
        fp32.version,
        fp32.classes,
        fp32.input_size,
    )
    if not same or card.precision != "int8":
        problems.append(
            RegistryProblem(path, f"INT8 card ({card.ref}, {card.precision}) does not match {fp32.ref}")
        )
        return None
    if card.quantisation is not None and card.quantisation.fp32_sha256 != fp32.sha256:
        problems.append(RegistryProblem(path, f"INT8 variant made from another FP32 file than {fp32.ref}'s"))
        return None
    return card


def _read_current(model_dir: Path) -> int | None:
    try:
        text = (model_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
