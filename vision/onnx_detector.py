"""ONNX YOLO detector: letterbox → onnxruntime → vectorised decode → class-wise NMS → input pixels.

Reads any ultralytics-exported YOLO detection model: one output of shape (batch, 4 + classes, anchors)
holding cx, cy, w, h in input pixels followed by per-class scores; fixed or dynamic batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from vision.detections import Detections
from vision.letterbox import LetterboxTransform, letterbox, to_input_tensor
from vision.nms import batched_nms

# Preferred first; onnxruntime silently skips providers it was not built with, we filter explicitly.
PROVIDER_PREFERENCE = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
MAX_CANDIDATES = 10_000  # cap before NMS so a degenerate model cannot make NMS quadratic in 8,400 boxes


class ModelError(ValueError):
    """A model file that cannot be used: missing, corrupt, wrong checksum or unexpected outputs."""


@dataclass(frozen=True, slots=True)
class DetectorOptions:
    iou_threshold: float = 0.45
    max_detections: int = 300
    intra_op_threads: int | None = None
    batch_size: int = 8


def make_session(model_path: Path, intra_op_threads: int | None = None) -> ort.InferenceSession:
    """An inference session with deliberate options: full graph optimisation, sequential execution
    (one model, one stream of batches: parallel operator scheduling only adds contention), and an
    explicit intra-op thread count so several detectors in one process do not oversubscribe cores."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    if intra_op_threads is not None:
        options.intra_op_num_threads = intra_op_threads
    options.log_severity_level = 3
    available = set(ort.get_available_providers())
    providers = [p for p in PROVIDER_PREFERENCE if p in available]
    try:
        return ort.InferenceSession(str(model_path), sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise ModelError(f"{model_path}: cannot load ONNX model ({str(exc).splitlines()[0]})") from exc


class OnnxDetector:
    """Runs one YOLO detection model; thread-safe (onnxruntime sessions allow concurrent ``run``)."""

    def __init__(
        self,
        model_path: Path,
        class_names: Sequence[str],
        input_size: tuple[int, int],
        *,
        thresholds: Mapping[str, float] | None = None,
        default_threshold: float = 0.25,
        options: DetectorOptions | None = None,
    ) -> None:
        self.model_path = model_path
        self.class_names = tuple(class_names)
        self.input_size = input_size
        self.options = options or DetectorOptions()
        self._session = make_session(model_path, self.options.intra_op_threads)
        self._input_name, self._fixed_batch = self._check_io()
        threshold_map = thresholds or {}
        self._class_thresholds = np.array(
            [threshold_map.get(name, default_threshold) for name in self.class_names], dtype=np.float32
        )

    @property
    def providers(self) -> list[str]:
        return list(self._session.get_providers())

    def _check_io(self) -> tuple[str, int | None]:
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) < 1:
            raise ModelError(
                f"{self.model_path}: expected 1 input and 1 output, got {len(inputs)}/{len(outputs)}"
            )
        input_shape, output_shape = inputs[0].shape, outputs[0].shape
        if len(input_shape) != 4 or len(output_shape) != 3:
            raise ModelError(
                f"{self.model_path}: not a YOLO detection model (input {input_shape}, output {output_shape})"
            )
        channels = output_shape[1]
        expected = 4 + len(self.class_names)
        if isinstance(channels, int) and channels != expected:
            raise ModelError(
                f"{self.model_path}: output has {channels} channels but the card lists "
                f"{len(self.class_names)} classes (expected 4 + {len(self.class_names)} = {expected})"
            )
        batch = input_shape[0]
        return inputs[0].name, batch if isinstance(batch, int) else None

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        return self.detect_many([image])[0]

    def detect_many(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[Detections]:
        """Detect in many images, feeding the model in batches (the model's fixed batch if it has one)."""
        step = self._fixed_batch or max(1, self.options.batch_size)
        results: list[Detections] = []
        for start in range(0, len(images), step):
            chunk = images[start : start + step]
            boxed = [letterbox(image, self.input_size) for image in chunk]
            tensors = [tensor for tensor, _ in boxed]
            if self._fixed_batch and len(tensors) < self._fixed_batch:  # pad a short final chunk
                tensors += [tensors[-1]] * (self._fixed_batch - len(tensors))
            raw = self._run(to_input_tensor(tensors))
            results += [self._decode(raw[i], transform) for i, (_, transform) in enumerate(boxed)]
        return results

    def _run(self, tensor: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        output = self._session.run(None, {self._input_name: tensor})[0]
        if output.ndim != 3 or output.shape[1] != 4 + len(self.class_names):
            raise ModelError(
                f"{self.model_path}: output shape {output.shape} does not fit "
                f"{len(self.class_names)} classes (expected (batch, {4 + len(self.class_names)}, anchors))"
            )
        return np.asarray(output, dtype=np.float32)

    def _decode(self, prediction: npt.NDArray[np.float32], transform: LetterboxTransform) -> Detections:
        """(4 + C, A) raw predictions of one image → final detections in source pixels."""
        scores_all = prediction[4:]
        class_ids = scores_all.argmax(axis=0)
        scores = scores_all[class_ids, np.arange(scores_all.shape[1])]
        keep = scores >= self._class_thresholds[class_ids]
        if not keep.any():
            return Detections.empty(self.class_names)
        candidates = np.flatnonzero(keep)
        if candidates.size > MAX_CANDIDATES:
            candidates = candidates[np.argsort(-scores[candidates])[:MAX_CANDIDATES]]
        cx, cy, w, h = prediction[:4, candidates]
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1).astype(np.float32)
        scores, class_ids = scores[candidates], class_ids[candidates].astype(np.int64)
        kept = batched_nms(boxes, scores, class_ids, self.options.iou_threshold)[
            : self.options.max_detections
        ]
        return Detections(transform.to_source(boxes[kept]), scores[kept], class_ids[kept], self.class_names)
