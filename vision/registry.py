"""Model registry over ``models/``: ``<name>/<version>/{model.onnx, card.json}``.

The current version of a model is the one named in ``<name>/current`` (one line) if present, else the
highest version. ``reload()`` re-scans the folder cheaply, so a running service picks up a model that
``hazardeye promote`` installed without restarting; detectors are built lazily and cached per version.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from vision.model_card import CARD_FILE, MODEL_FILE, ModelCard, read_card, sha256_of
from vision.onnx_detector import DetectorOptions, ModelError, OnnxDetector

CURRENT_FILE = "current"


@dataclass(frozen=True, slots=True)
class ModelEntry:
    name: str
    version: int
    directory: Path
    card: ModelCard
    current: bool

    @property
    def model_path(self) -> Path:
        return self.directory / MODEL_FILE

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class RegistryProblem:
    """A model folder that could not be listed (bad card, missing file); reported, not fatal."""

    path: Path
    message: str


class ModelRegistry:
    def __init__(self, models_dir: Path, *, options: DetectorOptions | None = None) -> None:
        self.models_dir = models_dir
        self._options = options or DetectorOptions()
        self._lock = threading.Lock()
        self._entries: dict[str, list[ModelEntry]] = {}
        self._problems: list[RegistryProblem] = []
        self._detectors: dict[tuple[str, int, str, float | None], OnnxDetector] = {}
        self.reload()

    def reload(self) -> None:
        """Re-scan the models folder. Cached detectors of unchanged models are kept."""
        entries, problems = _scan(self.models_dir)
        with self._lock:
            self._entries, self._problems = entries, problems

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
        key = (entry.name, entry.version, entry.card.sha256, floor)
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
    if not entry.model_path.is_file():
        raise ModelError(f"{entry.model_path}: model file is missing")
    actual = sha256_of(entry.model_path)
    if actual != entry.card.sha256:
        raise ModelError(
            f"{entry.model_path}: sha256 {actual[:12]}… does not match the card's {entry.card.sha256[:12]}… "
            "(file corrupt or replaced)"
        )
    card = entry.card
    return OnnxDetector(
        entry.model_path,
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
                ModelEntry(card.name, version, path, card, version == chosen) for version, path, card in found
            ]
    return entries, problems


def _read_current(model_dir: Path) -> int | None:
    try:
        text = (model_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
