"""ONNX YOLO detector: letterbox → onnxruntime → vectorised decode → class-wise NMS → input pixels.

Reads any ultralytics-exported YOLO detection model: one output of shape (batch, 4 + classes, anchors)
holding cx, cy, w, h in input pixels followed by per-class scores; fixed or dynamic batch. A model whose
input height/width are dynamic is fed the minimal stride-aligned rect (``vision.letterbox``), which is
what ultralytics' own predictor does and saves up to a third of the compute on 4:3 and 3:2 photos.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from vision.detections import Detections
from vision.engines import EngineName, InferenceEngine, OnnxRuntimeEngine, open_engine
from vision.engines import ModelError as ModelError  # re-exported: callers catch it from here
from vision.engines import make_session as make_session
from vision.letterbox import LetterboxTransform, letterbox_batch, plan, to_input_tensor
from vision.nms import batched_nms

MAX_CANDIDATES = 10_000  # cap before NMS so a degenerate model cannot make NMS quadratic in 8,400 boxes
DEFAULT_STRIDE = 32  # YOLO's largest feature stride, when the model's metadata does not say


@dataclass(frozen=True, slots=True)
class DetectorOptions:
    iou_threshold: float = 0.45
    max_detections: int = 300
    intra_op_threads: int | None = None
    batch_size: int = 8
    rect: bool = True  # minimal stride-aligned input for dynamic-shape models; False: always square
    allow_spinning: bool = False  # busy-wait worker threads (only worth it on cores nobody else uses)
    engine: EngineName = "onnxruntime"  # or "openvino" where installed (vision.engines)


class OnnxDetector:
    """Runs one YOLO detection model; thread-safe (both engines allow concurrent ``run``)."""

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
        self.engine: InferenceEngine = open_engine(
            self.options.engine,
            model_path,
            self.options.intra_op_threads,
            allow_spinning=self.options.allow_spinning,
        )
        self._input_name, self._fixed_batch, dynamic_hw = self._check_io()
        # None: square layout (fixed-shape model, or rect turned off); else rect aligned to the stride.
        self.stride: int | None = self._model_stride() if dynamic_hw and self.options.rect else None
        threshold_map = thresholds or {}
        self._class_thresholds = np.array(
            [threshold_map.get(name, default_threshold) for name in self.class_names], dtype=np.float32
        )
        # Only a pre-filter (the per-class thresholds decide): a lower floor changes speed, not results.
        self._min_threshold = self._class_thresholds.min(initial=np.inf)  # pragma: no mutate

    @property
    def providers(self) -> list[str]:
        return self.engine.providers

    @property
    def session(self) -> ort.InferenceSession:
        """The onnxruntime session (benchmarks time it alone with exactly these options)."""
        if not isinstance(self.engine, OnnxRuntimeEngine):
            raise ModelError(f"{self.model_path} runs on {self.engine.name}, not onnxruntime")
        return self.engine.session

    def input_shape_for(self, source_size: tuple[int, int]) -> tuple[int, int]:
        """The model input (h, w) an image of ``source_size`` (h, w) is fed at, alone in its batch."""
        return plan(source_size, self.input_size, self.stride).canvas

    def _model_stride(self) -> int:
        metadata = self.engine.metadata
        stride = metadata.get("stride", "")  # pragma: no mutate (any non-number default means 32)
        return int(stride) if stride.isdigit() and int(stride) > 0 else DEFAULT_STRIDE

    def _check_io(self) -> tuple[str, int | None, bool]:
        inputs, outputs = self.engine.inputs, self.engine.outputs
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
        height, width = input_shape[2], input_shape[3]
        fixed_hw = isinstance(height, int) and isinstance(width, int)
        if fixed_hw and (height, width) != tuple(self.input_size):
            raise ModelError(
                f"{self.model_path}: model input is {height}x{width} but the card says "
                f"{self.input_size[0]}x{self.input_size[1]}"
            )
        batch = input_shape[0]
        return inputs[0].name, batch if isinstance(batch, int) else None, not fixed_hw

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        return self.detect_many([image])[0]

    def detect_many(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[Detections]:
        """Detect in many images, fed to the model in batches (``detect_iter``); results in input order.

        In rect layout images are batched in order of their input shape, so a batch mostly holds one
        shape and little padding is computed.
        """
        order = list(range(len(images)))
        # Sorting is for speed only (results go back to input order): `or`, `>= 1` change nothing.
        if self.stride is not None and len(images) > 1:  # pragma: no mutate
            order.sort(key=lambda i: self.input_shape_for((images[i].shape[0], images[i].shape[1])))
        results: list[Detections | None] = [None] * len(images)
        # strict= only guards an invariant (one result per image), so its mutants are equivalent.
        found = self.detect_iter(images[i] for i in order)
        for index, detections in zip(order, found, strict=True):  # pragma: no mutate
            results[index] = detections
        return [result for result in results if result is not None]

    def detect_iter(self, images: Iterable[npt.NDArray[np.uint8]]) -> Iterator[Detections]:
        """Detections for each image, in order, in batches of the model's fixed batch or
        ``options.batch_size``, pipelined.

        While the session runs batch n, one helper thread decodes the output of batch n-1, then takes the
        images of batch n+1 from ``images`` (a generator that reads and decodes files does that work there
        too) and letterboxes them. onnxruntime leaves part of the CPU idle between and inside runs; this
        hides the pre- and post-processing there (``bench/bench_inference.py``). An exception raised by
        ``images`` ends the iteration. A single batch runs inline, without the helper thread.
        """
        step = self._fixed_batch or max(1, self.options.batch_size)
        source = iter(images)

        def prepare() -> tuple[npt.NDArray[np.float32], list[LetterboxTransform]] | None:
            chunk = list(itertools.islice(source, step))
            if not chunk:
                return None
            canvases, transforms = letterbox_batch(chunk, self.input_size, stride=self.stride)
            # pad a short final chunk (`<=` would pad a full one with nothing: equivalent)
            if self._fixed_batch and len(canvases) < self._fixed_batch:  # pragma: no mutate
                canvases += [canvases[-1]] * (self._fixed_batch - len(canvases))
            return to_input_tensor(canvases), transforms

        def decode(raw: npt.NDArray[np.float32], transforms: list[LetterboxTransform]) -> list[Detections]:
            return [self._decode(raw[row], transform) for row, transform in enumerate(transforms)]

        first = prepare()
        if first is None:
            return
        following = prepare()
        if following is None:  # one batch (a single camera frame or photo): nothing to overlap
            yield from decode(self._run(first[0]), first[1])
            return
        # One helper: more would only let prepare and decode overlap, with the same results; the name is
        # for py-spy and logs (equivalent mutants).
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="detect-pipeline")  # pragma: no mutate
        with pool as helper:
            ready: Future[tuple[npt.NDArray[np.float32], list[LetterboxTransform]] | None] = Future()
            ready.set_result(following)
            current: tuple[npt.NDArray[np.float32], list[LetterboxTransform]] | None = first
            decoding: Future[list[Detections]] | None = None
            while current is not None:
                tensor, transforms = current
                raw = self._run(tensor)
                if decoding is not None:
                    yield from decoding.result()
                decoding = helper.submit(decode, raw, transforms)
                current = ready.result()
                # After the last batch, prepare would just return None again (equivalent mutant).
                ready = helper.submit(prepare) if current is not None else ready  # pragma: no mutate
            if decoding is not None:
                yield from decoding.result()

    def _run(self, tensor: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        output = self.engine.run(self._input_name, tensor)
        if output.ndim != 3 or output.shape[1] != 4 + len(self.class_names):
            raise ModelError(
                f"{self.model_path}: output shape {output.shape} does not fit "
                f"{len(self.class_names)} classes (expected (batch, {4 + len(self.class_names)}, anchors))"
            )
        return np.asarray(output, dtype=np.float32)  # pragma: no mutate (FP32 models output float32 already)

    def _decode(self, prediction: npt.NDArray[np.float32], transform: LetterboxTransform) -> Detections:
        """(4 + C, A) raw predictions of one image → final detections in source pixels."""
        # Almost every anchor is background: drop those below the lowest class threshold before the
        # per-anchor argmax, so the rest of the decode touches tens of anchors, not thousands.
        scores_all = prediction[4:]
        anchors = np.flatnonzero(scores_all.max(axis=0) >= self._min_threshold)
        if anchors.size == 0:
            return Detections.empty(self.class_names)
        candidate_scores = scores_all[:, anchors]
        class_ids = candidate_scores.argmax(axis=0)
        scores = candidate_scores[class_ids, np.arange(anchors.size)]
        keep = scores >= self._class_thresholds[class_ids]
        if not keep.any():
            return Detections.empty(self.class_names)
        # argmax gives int64 and the model float32 already: the dtype mutants below are equivalent.
        anchors, scores = anchors[keep], scores[keep]
        class_ids = class_ids[keep].astype(np.int64)  # pragma: no mutate
        if anchors.size > MAX_CANDIDATES:  # pragma: no mutate (`>=`: the top N of N are all N)
            top = np.argsort(-scores)[:MAX_CANDIDATES]
            anchors, scores, class_ids = anchors[top], scores[top], class_ids[top]
        cx, cy, w, h = prediction[:4, anchors]
        half_w, half_h = w / 2, h / 2
        boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
        boxes = boxes.astype(np.float32)  # pragma: no mutate
        kept = batched_nms(boxes, scores, class_ids, self.options.iou_threshold)[
            : self.options.max_detections
        ]
        return Detections(transform.to_source(boxes[kept]), scores[kept], class_ids[kept], self.class_names)
