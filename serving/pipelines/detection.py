"""Run every configured detector (PPE, leak) on an image and apply the rules layer.

Shared by the photo upload, the camera monitor and the before/after re-check, so all three see the same
models, thresholds and findings. A configured model that is not installed (e.g. no leak model shipped)
is skipped and reported once in ``missing``; a model that fails its sha256 check is an error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from serving.kind_labels import drawn_label
from vision.annotate import annotate
from vision.detections import Box, Detections, Finding
from vision.onnx_detector import ModelError
from vision.ppe import ZoneRequirements, count_people, person_boxes
from vision.privacy import blur_regions, face_regions
from vision.registry import ModelRegistry
from vision.rules import findings_for
from vision.tiling import TilingMode, detect_tiled, resolve

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class ModelRun:
    """One model's output on one image: ``model`` is ``name@version`` (the card's ref)."""

    model: str
    detections: Detections
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class ImageAnalysis:
    runs: tuple[ModelRun, ...]
    inference_s: float

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every model's findings, most confident first."""
        return tuple(sorted((f for run in self.runs for f in run.findings), key=lambda f: -f.confidence))

    @property
    def people(self) -> int:
        """People visible (each head/helmet box is a person): the largest count any PPE model gives."""
        return max((count_people(run.detections) for run in self.runs), default=0)

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(run.model for run in self.runs)

    def rescaled(self, scale_x: float, scale_y: float) -> ImageAnalysis:
        """Boxes in the full-size original's pixels when the analysis ran on a reduced decode."""
        if scale_x == 1.0 and scale_y == 1.0:
            return self
        runs = tuple(
            ModelRun(
                run.model,
                run.detections.scaled(scale_x, scale_y),
                tuple(f.scaled(scale_x, scale_y) for f in run.findings),
            )
            for run in self.runs
        )
        return ImageAnalysis(runs, self.inference_s)

    def face_regions(self, width: int, height: int) -> list[Box]:
        """Where the faces are, from the head boxes of every model that finds heads (the PPE model)."""
        return [
            region
            for run in self.runs
            if "head" in run.detections.class_names
            for region in face_regions(run.detections, width, height)
        ]

    def person_boxes(self) -> list[Box]:
        """Every person the PPE model sees: the body box where there is one, else the head."""
        return [
            box
            for run in self.runs
            if "head" in run.detections.class_names
            for box in person_boxes(run.detections)
        ]

    def annotated(self, image: Image, language: str = "en", faces: Sequence[Box] = ()) -> Image:
        """``image`` with every model's boxes and findings drawn on it, labelled in ``language``; the
        ``faces`` regions blurred first."""
        canvas = blur_regions(image, faces) if faces else image
        for run in self.runs:
            canvas = annotate(
                canvas, run.detections, list(run.findings), lambda name: drawn_label(name, language)
            )
        return canvas


class ImageAnalyzer:
    """Thread-safe (ORT sessions are); models are loaded on first use and cached by the registry."""

    def __init__(
        self, registry: ModelRegistry, model_names: Sequence[str], tiled: Sequence[str] = ()
    ) -> None:
        self.registry = registry
        self.model_names = tuple(dict.fromkeys(model_names))
        # Models that camera tiling applies to (the PPE model: far heads). The leak model reads texture
        # and sees stains in every tile of a plain floor, so it always gets the whole frame.
        self.tiled = frozenset(tiled)
        self._warned: set[str] = set()
        self._observers: list[Callable[[str, float], None]] = []

    def add_observer(self, observer: Callable[[str, float], None]) -> None:
        """``observer(model_ref, seconds_per_image)`` after each model's run (the latency metric)."""
        self._observers.append(observer)

    def faces(self, image: Image, analysis: ImageAnalysis, floor: float) -> list[Box]:
        """The regions to blur in ``image``: the analysis's head boxes plus those a second pass of each
        head-finding model finds above ``floor`` (far below the hazard thresholds: a missed face is worse
        than a blurred shadow)."""
        height, width = image.shape[:2]
        regions = analysis.face_regions(width, height)
        for name in self.installed():
            entry, detector = self.registry.detector(name, floor=floor)
            if "head" in entry.card.classes:
                regions += face_regions(detector.detect(image), width, height)
        return regions

    def installed(self) -> tuple[str, ...]:
        """The configured model names that are present in the models folder."""
        present = set(self.registry.names())
        return tuple(name for name in self.model_names if name in present)

    def missing(self) -> tuple[str, ...]:
        present = set(self.registry.names())
        return tuple(name for name in self.model_names if name not in present)

    def analyze(
        self, image: Image, requirements: ZoneRequirements | None = None, tiling: TilingMode = "off"
    ) -> ImageAnalysis:
        return self.analyze_many([image], requirements, tiling)[0]

    def analyze_many(
        self,
        images: Sequence[Image],
        requirements: ZoneRequirements | None = None,
        tiling: TilingMode = "off",
    ) -> list[ImageAnalysis]:
        """Analyse a batch; raises ``ModelError`` only when no configured model can run at all."""
        per_image: list[list[ModelRun]] = [[] for _ in images]
        started = time.perf_counter()
        names = self.installed()
        self._warn_missing()
        if not names:
            raise ModelError(
                f"none of the configured models {list(self.model_names)} is installed in "
                f"{self.registry.models_dir}"
            )
        for name in names:
            model_started = time.perf_counter()
            entry, detector = self.registry.detector(name)
            side = max(entry.card.input_size)
            mode = tiling if name in self.tiled else "off"
            plans = [resolve(mode, (im.shape[0], im.shape[1]), side) for im in images]
            whole = [im for im, plan in zip(images, plans, strict=True) if plan is None]
            plain = iter(detector.detect_many(whole) if whole else [])
            for runs, image, plan in zip(per_image, images, plans, strict=True):
                detections = (
                    next(plain)
                    if plan is None
                    else detect_tiled(detector.detect_many, image, plan, detector.options.iou_threshold)
                )
                runs.append(ModelRun(entry.ref, detections, tuple(findings_for(detections, requirements))))
            seconds_each = (time.perf_counter() - model_started) / len(images) if images else 0.0
            for observer in self._observers:
                observer(entry.ref, seconds_each)
        share = (time.perf_counter() - started) / max(len(images), 1)
        return [ImageAnalysis(tuple(runs), share) for runs in per_image]

    def _warn_missing(self) -> None:
        for name in self.missing():
            if name not in self._warned:
                self._warned.add(name)
                log.warning(
                    "model %r is configured but not installed in %s; skipped", name, self.registry.models_dir
                )
