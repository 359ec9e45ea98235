"""GPU throughput of the shipped PPE model, JPEG decode included, against torch FP16 eager (issue 14, item 4).

    python bench/bench_gpu.py [--images DIR] [--batches 1,16,64] [--seconds 3] [--rounds 3]
                              [--device cuda|cpu] [--json OUT] [--model models/ppe] [--imgsz N]

Made for one lent H200 that has torch but no onnxruntime-gpu (``scripts/gpu-bench`` carries the wheels
and runs it there). The shipped model is resolved as ``vision.registry`` does (``models/ppe/current`` →
``<version>/model.onnx``, sha256 checked against its card) and run three ways, all by torch on one device:
  onnx→torch FP32   the ONNX file itself, converted to a torch module by onnx2torch;
  onnx→torch FP16   the same module in half precision (reported as skipped, with the reason, if it fails);
  torch FP16 eager  the baseline: ultralytics' own module for the card's architecture (yolo11n.yaml), fused,
                    with the ONNX file's weights loaded by name (the export keeps the module names), so the
                    same network and weights run eagerly in FP16. Without ultralytics the baseline falls
                    back to onnx→torch FP16, and the output says so.
End to end, per batch: JPEG bytes in memory (file reads are not timed) → ``torchvision.io.decode_jpeg`` on
the device, batched → letterbox (bilinear resize, grey padding, the project's stride-aligned rect layout)
→ network → the card's per-class thresholds → ``torchvision.ops.batched_nms`` (class- and image-wise) →
boxes in source pixels copied to host memory. "model" is the network alone on one letterboxed batch made
once; "decode" is ``decode_jpeg`` alone (the ceiling of the end-to-end rate). Ratios are against the FP16
eager baseline at the same batch, measured in the same run. Contestants are interleaved: ``--seconds`` per
configuration is cut into ``--rounds`` segments, run in a new random order each round; the spread is
(max - min) / median of a configuration's segment rates. On CUDA, torch's defaults stand: FP32 convolutions
run in TF32 (cuDNN), and cudnn.benchmark is on for every path (each configuration has one input shape).
Before timing, every path's detections on the first images are compared with the project's own detector
(``vision.onnx_detector`` on onnxruntime's CPU provider, images decoded by OpenCV) where onnxruntime is
importable: an image agrees when both find the same boxes of the same classes within 1 px of the image
(the largest difference is also given in pixels of the network's input, 4.6x smaller for a 1080p frame).
Images: ``--images DIR`` (*.jpg), else 1920x1080 JPEGs made from the tests/fixtures photos with sensor noise
added (so they compress like camera frames). Dry run on a CPU: ``--device cpu --seconds 1 --batches 1,2``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import importlib.metadata
import itertools
import json
import math
import os
import random
import re
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F  # noqa: N812 (torch's own convention)
import torchvision
from torchvision.io import ImageReadMode, decode_jpeg
from torchvision.ops import batched_nms

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# vision.letterbox needs only numpy and OpenCV, both on the device image: one placement rule, not two.
from vision.letterbox import PAD_VALUE, plan  # noqa: E402

FIXTURE_DIRS = (ROOT / "tests/fixtures/hardhat/images", ROOT / "tests/fixtures/clip")
MAX_DETECTIONS = 300  # vision.onnx_detector.DetectorOptions' default
DEFAULT_STRIDE = 32  # YOLO's largest stride, when the ONNX metadata does not say (as vision does)
AGREE_PX = 1.0
ONNX_FP32, ONNX_FP16, EAGER_FP16 = "onnx→torch FP32", "onnx→torch FP16", "torch FP16 eager"
EAGER_FP32 = "torch FP32 eager"  # cross-check only
BASELINE = EAGER_FP16

# torchvision 0.29 deprecates its image codecs in favour of TorchCodec (absent on the device image);
# onnx2torch's Slice indexes with a list (a torch deprecation). Neither changes a result here.
warnings.filterwarnings("ignore", message=r".*TorchCodec.*")
warnings.filterwarnings("ignore", message=r".*non-tuple sequence for multidimensional indexing.*")

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """What the benchmark needs from a model version's card (read as plain JSON: no pydantic there)."""

    ref: str
    onnx_path: Path
    sha256: str
    classes: tuple[str, ...]
    input_size: tuple[int, int]
    thresholds: tuple[float, ...]  # per class, in class order, as the detector applies them
    iou_threshold: float
    architecture: str


def resolve_model(model_dir: Path) -> ModelSpec:
    """``models/<name>`` → its current version as ``vision.registry`` picks it (the version named in
    ``current`` if installed, else the highest); a version folder is taken as it is."""
    version_dir = model_dir
    if not (model_dir / "card.json").is_file():
        versions = sorted(
            int(p.name) for p in model_dir.iterdir() if p.name.isdigit() and (p / "card.json").is_file()
        )
        if not versions:
            raise SystemExit(f"{model_dir}: no model versions (<n>/card.json)")
        current_file = model_dir / "current"
        named = current_file.read_text(encoding="utf-8").strip() if current_file.is_file() else ""
        chosen = int(named) if named.isdigit() and int(named) in versions else versions[-1]
        version_dir = model_dir / str(chosen)
    card: dict[str, Any] = json.loads((version_dir / "card.json").read_text(encoding="utf-8"))
    onnx_path = version_dir / "model.onnx"
    digest = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    if digest != card["sha256"]:
        raise SystemExit(
            f"{onnx_path}: sha256 {digest[:12]}… does not match the card's {card['sha256'][:12]}…"
        )
    classes = tuple(str(c) for c in card["classes"])
    by_class: dict[str, float] = card.get("thresholds") or {}
    default = float(card.get("default_threshold", 0.25))
    found = re.search(r"[\w.-]+\.yaml", str((card.get("training") or {}).get("architecture", "")))
    height, width = card["input_size"]
    return ModelSpec(
        ref=f"{card['name']}@{card['version']}",
        onnx_path=onnx_path,
        sha256=digest,
        classes=classes,
        input_size=(int(height), int(width)),
        thresholds=tuple(float(by_class.get(c, default)) for c in classes),
        iou_threshold=float(card.get("iou_threshold", 0.45)),
        architecture=found.group(0) if found else "yolo11n.yaml",
    )


@dataclass(frozen=True, slots=True)
class Found:
    """Detections of one image in source pixels (the same arrays vision.detections.Detections holds)."""

    boxes: FloatArray
    scores: FloatArray
    class_ids: npt.NDArray[np.int64]


@dataclass(slots=True)
class Network:
    label: str
    forward: Callable[[torch.Tensor], torch.Tensor]  # (B, 3, H, W) → (B, 4 + classes, anchors)
    dtype: torch.dtype
    note: str = ""


def _first(output: Any) -> torch.Tensor:
    # ultralytics' Detect returns (decoded, raw feature maps) in eval mode; the ONNX graph only the first.
    first = output[0] if isinstance(output, list | tuple) else output
    assert isinstance(first, torch.Tensor)
    return first


def _bgr(jpeg: bytes) -> npt.NDArray[np.uint8]:
    """The BGR image OpenCV decodes (vision's own decoder), for the reference detector and the report."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit("an image is not a JPEG OpenCV can decode")
    return np.asarray(image, dtype=np.uint8)


def _eager_module(onnx_model: Any, spec: ModelSpec) -> tuple[torch.nn.Module, str]:
    """ultralytics' module for the card's architecture, fused (BatchNorm folded, as the export does), with
    every tensor taken by name from the ONNX initializers: the shipped weights, not a training checkpoint."""
    os.environ.setdefault("YOLO_OFFLINE", "1")  # nothing to fetch: the yaml ships inside the wheel
    os.environ.setdefault("YOLO_VERBOSE", "False")
    import ultralytics
    from onnx import numpy_helper
    from ultralytics.nn import tasks

    detection_model: Any = tasks.DetectionModel  # untyped
    model = detection_model(spec.architecture, nc=len(spec.classes), verbose=False).fuse(verbose=False)
    state = model.state_dict()
    weights = {init.name: init for init in onnx_model.graph.initializer if init.name in state}
    missing = [k for k, v in state.items() if k not in weights or tuple(weights[k].dims) != tuple(v.shape)]
    if missing:
        raise RuntimeError(
            f"{len(missing)} of {len(state)} tensors not in the ONNX file (first: {missing[0]})"
        )
    model.load_state_dict({k: torch.from_numpy(numpy_helper.to_array(weights[k]).copy()) for k in state})
    return model.eval(), f"ultralytics {ultralytics.__version__} {spec.architecture}, {len(state)} tensors"


def build_networks(
    onnx_model: Any, spec: ModelSpec, device: torch.device, *, eager_fp32: bool = False
) -> tuple[list[Network], dict[str, str]]:
    """The three timed paths (those that could be built) and why any other could not. ``eager_fp32`` adds
    ultralytics' module in FP32 too: the check that the weights went in by the right names."""
    from onnx2torch import convert

    skipped: dict[str, str] = {}
    converted = convert(onnx_model).eval().to(device)
    networks = [Network(ONNX_FP32, converted, torch.float32)]
    try:
        networks.append(Network(ONNX_FP16, copy.deepcopy(converted).half(), torch.float16))
    except Exception as exc:  # reported in the output; the other paths still run
        skipped[ONNX_FP16] = f"{type(exc).__name__}: {exc}"
    try:
        eager, note = _eager_module(onnx_model, spec)
    except Exception as exc:  # no ultralytics, or an unknown architecture: fall back, say so
        reason = f"{type(exc).__name__}: {exc}"
        skipped["ultralytics eager module"] = reason
        stand_in = next((n for n in networks if n.label == ONNX_FP16), None)
        if stand_in is not None:
            note = f"onnx→torch FP16 stands in (ultralytics' module unavailable: {reason})"
            networks.append(Network(EAGER_FP16, stand_in.forward, torch.float16, note))
        return networks, skipped
    if eager_fp32:
        fp32 = copy.deepcopy(eager).to(device)
        networks.append(Network(EAGER_FP32, lambda x: _first(fp32(x)), torch.float32, note))
    half = eager.to(device).half()
    networks.append(Network(EAGER_FP16, lambda x: _first(half(x)), torch.float16, note))
    return networks, skipped


class Pipeline:
    """decode → letterbox → network → thresholds → NMS → source pixels, all on one torch device."""

    def __init__(
        self, spec: ModelSpec, stride: int, device: torch.device, input_size: tuple[int, int]
    ) -> None:
        self.spec, self.stride, self.device, self.input_size = spec, stride, device, input_size
        self.thresholds = torch.tensor(spec.thresholds, dtype=torch.float32, device=device)

    def decode(self, jpegs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """(3, H, W) uint8 RGB per JPEG; on CUDA one batched nvJPEG call."""
        decoded = decode_jpeg(list(jpegs), mode=ImageReadMode.RGB, device=self.device)
        return decoded if isinstance(decoded, list) else [decoded]

    def letterbox(
        self, images: Sequence[torch.Tensor], dtype: torch.dtype
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The NCHW RGB [0, 1] batch vision.letterbox would make (images of one size resized together), and
        per image (scale, pad_x, pad_y, width, height) for mapping boxes back."""
        placements = [
            plan((int(im.shape[1]), int(im.shape[2])), self.input_size, self.stride) for im in images
        ]
        canvas_h = max(p.canvas[0] for p in placements)
        canvas_w = max(p.canvas[1] for p in placements)
        # Resize in the network's precision on CUDA (half the memory traffic); CPU half kernels are slow.
        work = dtype if self.device.type == "cuda" else torch.float32
        batch = torch.full(
            (len(images), 3, canvas_h, canvas_w), float(PAD_VALUE), dtype=work, device=self.device
        )
        transforms = torch.empty((len(images), 5), dtype=torch.float32)
        groups: dict[tuple[int, int], list[int]] = {}
        for index, image in enumerate(images):
            groups.setdefault((int(image.shape[1]), int(image.shape[2])), []).append(index)
        for (height, width), members in groups.items():
            placement = placements[members[0]]
            new_h, new_w = placement.resized
            stack = torch.stack([images[i] for i in members]).to(work)
            if (new_h, new_w) != (height, width):
                # cv2.INTER_LINEAR's sampling (half-pixel centres, no antialiasing), rounded to whole grey
                # levels as cv2's uint8 output is.
                stack = F.interpolate(stack, size=(new_h, new_w), mode="bilinear", align_corners=False)
                stack = stack.round_().clamp_(0, 255)
            own_h, own_w = placement.canvas
            pad_x, pad_y = (own_w - new_w) // 2, (own_h - new_h) // 2
            rows = torch.tensor(members, device=self.device)
            batch[rows, :, pad_y : pad_y + new_h, pad_x : pad_x + new_w] = stack
            transforms[members] = torch.tensor([placement.scale, pad_x, pad_y, width, height])
        return batch.mul_(1.0 / 255.0).to(dtype), transforms.to(self.device)

    def postprocess(self, raw: torch.Tensor, transforms: torch.Tensor) -> list[Found]:
        """vision.onnx_detector's decode for a whole batch at once: best class per anchor, that class's card
        threshold, one NMS call where neither images nor classes suppress each other, the first 300 per
        image, source pixels clipped to the image; one copy to host memory at the end."""
        raw = raw.float()
        count, classes = raw.shape[0], len(self.spec.classes)
        best, class_ids = raw[:, 4:, :].max(dim=1)  # (B, anchors)
        image_ids, anchors = (best >= self.thresholds[class_ids]).nonzero(as_tuple=True)
        centre_size = raw[image_ids, :4, anchors]  # (K, 4) cx, cy, w, h in input pixels
        half = centre_size[:, 2:] / 2
        boxes = torch.cat([centre_size[:, :2] - half, centre_size[:, :2] + half], dim=1)
        scores, labels = best[image_ids, anchors], class_ids[image_ids, anchors]
        kept = batched_nms(boxes, scores, image_ids * classes + labels, self.spec.iou_threshold)
        # Score order within each image survives a stable sort by image.
        kept = kept[torch.sort(image_ids[kept], stable=True).indices]
        owner = image_ids[kept]
        per_image = torch.bincount(owner, minlength=count)
        rank = (
            torch.arange(owner.numel(), device=owner.device) - (torch.cumsum(per_image, 0) - per_image)[owner]
        )
        kept, owner = kept[rank < MAX_DETECTIONS], owner[rank < MAX_DETECTIONS]
        placed = transforms[owner]
        mapped = (boxes[kept] - placed[:, [1, 2, 1, 2]]) / placed[:, :1]
        mapped = torch.minimum(mapped.clamp_(min=0), placed[:, [3, 4, 3, 4]])
        host = torch.cat([mapped, scores[kept, None], labels[kept, None].float(), owner[:, None].float()], 1)
        rows = host.cpu().numpy()
        cuts = np.searchsorted(rows[:, 6], np.arange(1, count), side="left")
        return [
            Found(part[:, :4].astype(np.float32), part[:, 4].astype(np.float32), part[:, 5].astype(np.int64))
            for part in np.split(rows, cuts)
        ]

    def detect(self, network: Network, jpegs: Sequence[torch.Tensor]) -> list[Found]:
        batch, transforms = self.letterbox(self.decode(jpegs), network.dtype)
        return self.postprocess(network.forward(batch), transforms)


def agreement(ours: Found, boxes: FloatArray, class_ids: npt.NDArray[np.int64]) -> float:
    """The largest coordinate difference (px) between matched detections of the same class; inf when the
    two do not find the same number of boxes of each class."""
    if len(ours.boxes) != len(boxes) or sorted(ours.class_ids.tolist()) != sorted(class_ids.tolist()):
        return math.inf
    unused = set(range(len(ours.boxes)))
    worst = 0.0
    for box, label in zip(boxes, class_ids, strict=True):
        candidates = [j for j in unused if ours.class_ids[j] == label]
        nearest = min(candidates, key=lambda j: float(np.abs(ours.boxes[j] - box).max()))
        worst = max(worst, float(np.abs(ours.boxes[nearest] - box).max()))
        unused.discard(nearest)
    return worst


def cross_check(
    pipeline: Pipeline, networks: Sequence[Network], jpegs: Sequence[bytes], tensors: Sequence[torch.Tensor]
) -> dict[str, Any]:
    """Each path against vision's onnxruntime detector, image by image (one per batch, so no batch padding
    differs from the reference)."""
    spec = pipeline.spec
    try:  # onnxruntime (CPU) is on the device image; anything amiss skips the check, not the benchmark
        from vision.onnx_detector import DetectorOptions, OnnxDetector

        reference = OnnxDetector(
            spec.onnx_path,
            spec.classes,
            pipeline.input_size,
            thresholds=dict(zip(spec.classes, spec.thresholds, strict=True)),
            options=DetectorOptions(iou_threshold=spec.iou_threshold, max_detections=MAX_DETECTIONS),
        )
        images = [_bgr(j) for j in jpegs]
        expected = [reference.detect(image) for image in images]
    except Exception as exc:
        return {"skipped": f"the project's detector did not run: {type(exc).__name__}: {exc}"}
    report: dict[str, Any] = {
        "reference": f"vision.onnx_detector ({', '.join(reference.providers)})",
        "images": len(jpegs),
        "detections": sum(len(e) for e in expected),
        "paths": {},
    }
    # The same gap at the network's input: a 1080p frame is shrunk 4.6x, so input differences show up
    # 4.6x larger in the frame's pixels. On the CPU decoding is bit-identical and torch's float bilinear
    # resize differs from OpenCV's fixed-point one by at most 1 grey level (in 11 % of a 1080p frame's
    # pixels); on CUDA nvJPEG decodes too.
    scales = [plan(image.shape[:2], pipeline.input_size, pipeline.stride).scale for image in images]
    for network in networks:
        gaps = [
            agreement(pipeline.detect(network, [tensor])[0], want.boxes, want.class_ids)
            for tensor, want in zip(tensors, expected, strict=True)
        ]
        finite = [(g, g * scale) for g, scale in zip(gaps, scales, strict=True) if math.isfinite(g)]
        report["paths"][network.label] = {
            "agree": sum(g <= AGREE_PX for g in gaps),
            "max_px": round(max(g for g, _ in finite), 3) if finite else None,
            "max_input_px": round(max(g for _, g in finite), 3) if finite else None,
            "count_mismatches": len(gaps) - len(finite),
        }
    return report


def synthesize(count: int, seed: int = 0) -> list[bytes]:
    """1920x1080 JPEGs (quality 90) from the fixture photos: scaled to cover the frame, flipped every other
    time, with Gaussian sensor noise so the files carry camera-like entropy, not smooth upscales."""
    sources = sorted(p for d in FIXTURE_DIRS for p in d.glob("*.jpg"))
    if not sources:
        raise SystemExit("no fixture photos to synthesize from (tests/fixtures)")
    # A few noise fields drawn once (OpenCV's generator, in C): per-frame numpy draws took most of the time.
    cv2.setRNGSeed(seed)
    # Drawn as one channel: OpenCV reads a scalar mean/stddev as (value, 0, 0), noising only blue.
    planes = [np.empty((1080, 1920 * 3), np.int16) for _ in range(3)]
    for plane in planes:
        cv2.randn(plane, np.zeros(1), np.full(1, 4.0))
    fields = [plane.reshape(1080, 1920, 3) for plane in planes]
    frames: list[bytes] = []
    for index in range(count):
        photo = _bgr(sources[index % len(sources)].read_bytes())
        scale = max(1080 / photo.shape[0], 1920 / photo.shape[1])
        big = cv2.resize(photo, (math.ceil(photo.shape[1] * scale), math.ceil(photo.shape[0] * scale)))
        top, left = (big.shape[0] - 1080) // 2, (big.shape[1] - 1920) // 2
        frame = big[top : top + 1080, left : left + 1920]
        frame = np.ascontiguousarray(frame[:, ::-1]) if index % 2 else frame
        noisy = cv2.add(frame, fields[index % len(fields)], dtype=cv2.CV_16S)
        ok, encoded = cv2.imencode(
            ".jpg", np.clip(noisy, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 90]
        )
        if not ok:
            raise SystemExit("OpenCV could not encode a JPEG")
        frames.append(encoded.tobytes())
    return frames


def load_images(directory: Path) -> list[bytes]:
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in {".jpg", ".jpeg"})
    if not files:
        raise SystemExit(f"{directory}: no .jpg files")
    return [p.read_bytes() for p in files]


@dataclass(slots=True)
class Contestant:
    path: str
    batch: int
    mode: str  # "end_to_end" | "model" | "decode"
    step: Callable[[], int]  # runs one batch, returns the images it covered
    rates: list[float] = field(default_factory=list)
    images: int = 0
    seconds: float = 0.0
    error: str | None = None  # set when a step raised (out of memory at batch 64, say): left out from then

    @property
    def rate(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else 0.0

    @property
    def spread(self) -> float:
        middle = statistics.median(self.rates) if self.rates else 0.0
        return (max(self.rates) - min(self.rates)) / middle if middle > 0 else 0.0


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(
    contestants: Sequence[Contestant],
    seconds: float,
    rounds: int,
    warmup: int,
    device: torch.device,
    seed: int,
) -> None:
    """Warm every contestant up (cuDNN picks its kernels per shape), then interleave timed segments. A
    contestant that raises is reported and dropped; one lent GPU run must not end on one configuration."""

    def guarded(contestant: Contestant, run: Callable[[Contestant], None]) -> None:
        try:
            run(contestant)
        except Exception as exc:  # kept in the report as the contestant's error
            contestant.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            if device.type == "cuda":
                torch.cuda.empty_cache()

    def warm(contestant: Contestant) -> None:
        for _ in range(warmup):
            contestant.step()
        _sync(device)

    def timed(contestant: Contestant) -> None:
        _sync(device)
        started = time.perf_counter()
        images = 0
        while True:
            images += contestant.step()
            if time.perf_counter() - started >= segment:
                break
        _sync(device)  # queued kernels belong to this segment
        elapsed = time.perf_counter() - started
        contestant.rates.append(images / elapsed)
        contestant.images += images
        contestant.seconds += elapsed

    begun = time.perf_counter()
    for contestant in contestants:
        guarded(contestant, warm)
    order = list(contestants)
    shuffle = random.Random(seed)
    segment = seconds / rounds
    for round_no in range(1, rounds + 1):
        shuffle.shuffle(order)
        for contestant in order:
            if contestant.error is None:
                guarded(contestant, timed)
        # progress on stderr: a run stopped by its time limit still shows how far it got
        print(
            f"round {round_no}/{rounds} done, {time.perf_counter() - begun:.0f} s",
            file=sys.stderr,
            flush=True,
        )


def _cycler(tensors: Sequence[torch.Tensor], batch: int) -> Callable[[], list[torch.Tensor]]:
    source = itertools.cycle(range(len(tensors)))
    return lambda: [tensors[next(source)] for _ in range(batch)]


def _decode_step(pipeline: Pipeline, take: Callable[[], list[torch.Tensor]]) -> Callable[[], int]:
    return lambda: len(pipeline.decode(take()))


def _end_to_end_step(
    pipeline: Pipeline, network: Network, take: Callable[[], list[torch.Tensor]]
) -> Callable[[], int]:
    return lambda: len(pipeline.detect(network, take()))


def _model_step(network: Network, batch: torch.Tensor) -> Callable[[], int]:
    def step() -> int:
        network.forward(batch)
        return int(batch.shape[0])

    return step


def _contestants(
    pipeline: Pipeline, networks: Sequence[Network], tensors: Sequence[torch.Tensor], batches: Sequence[int]
) -> list[Contestant]:
    """Per batch size: decode alone, and each path end to end and alone (its input letterboxed once)."""
    contestants: list[Contestant] = []
    for batch in batches:
        contestants.append(
            Contestant("decode", batch, "decode", _decode_step(pipeline, _cycler(tensors, batch)))
        )
        for network in networks:
            take = _cycler(tensors, batch)
            fixed, _ = pipeline.letterbox(pipeline.decode(take()), network.dtype)
            contestants.append(
                Contestant(network.label, batch, "end_to_end", _end_to_end_step(pipeline, network, take))
            )
            contestants.append(Contestant(network.label, batch, "model", _model_step(network, fixed)))
    return contestants


def _rows(contestants: Sequence[Contestant]) -> list[dict[str, Any]]:
    by_key = {(c.path, c.batch, c.mode): c for c in contestants}
    rows: list[dict[str, Any]] = []
    for c in contestants:
        if c.mode != "end_to_end":
            continue
        row: dict[str, Any] = {"path": c.path, "batch": c.batch}
        for mode in ("end_to_end", "model"):
            mine, base = by_key[(c.path, c.batch, mode)], by_key.get((BASELINE, c.batch, mode))
            usable = mine.error is None and mine.rate > 0
            row[mode] = {
                "images_per_s": round(mine.rate, 2) if usable else None,
                "vs_baseline": round(mine.rate / base.rate, 3)
                if usable and base and base.error is None and base.rate > 0
                else None,
                "spread": round(mine.spread, 3) if usable else None,
                "rounds": [round(r, 2) for r in mine.rates],
                "error": mine.error,
            }
        rows.append(row)
    return rows


def _print_table(report: dict[str, Any]) -> None:
    images = report["images"]
    print(
        f"{report['model']} (sha256 {report['sha256'][:12]}…) on {report['device']}; "
        f"torch {report['torch']}, torchvision {report['torchvision']}; "
        f"{images['count']} images ({images['source']}, {images['size']}, mean {images['mean_kb']} KB); "
        f"canvas {report['canvas']}; {report['seconds']} s per configuration, "
        f"{report['rounds']} interleaved round(s)"
    )
    header = f"{'path':<18} {'batch':>5} {'end-to-end img/s':>17} {'×eager':>7} {'spread':>7}"
    print(header + f" {'model img/s':>12} {'×eager':>7} {'spread':>7}")
    for row in report["results"]:
        cells = [f"{row['path']:<18} {row['batch']:>5}"]
        errors = []
        for mode, width in (("end_to_end", 17), ("model", 12)):
            value = row[mode]
            if value["images_per_s"] is None:
                cells.append(f"{'failed':>{width}} {'—':>7} {'—':>7}")
                errors.append(f"{mode}: {value['error']}")
                continue
            ratio = "—" if value["vs_baseline"] is None else f"{value['vs_baseline']:.2f}×"
            cells.append(f"{value['images_per_s']:>{width}.1f} {ratio:>7} {value['spread']:>6.0%}")
        print(" ".join(cells) + ("  " + "; ".join(errors) if errors else ""))
    decode = ", ".join(
        f"batch {d['batch']}: " + (f"{d['images_per_s']:.1f} img/s" if d["error"] is None else d["error"])
        for d in report["decode"]
    )
    print(f"decode alone (decode_jpeg on {report['device_type']}): {decode}")
    for label, note in report["notes"].items():
        print(f"{label}: {note}")
    for label, reason in report["skipped"].items():
        print(f"skipped {label}: {reason}")
    check = report["cross_check"]
    if "skipped" in check:
        print(f"cross-check skipped: {check['skipped']}")
        return
    print(
        f"cross-check against {check['reference']} on {check['images']} images "
        f"({check['detections']} detections): same boxes within {AGREE_PX:g} px in"
    )
    for label, result in check["paths"].items():
        print(
            f"  {label:<18} {result['agree']}/{check['images']} images (largest difference "
            f"{result['max_px']} px in the image, {result['max_input_px']} px at the network's input; "
            f"{result['count_mismatches']} with a different set of boxes)"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--images", type=Path, help="folder of .jpg files (default: synthesized 1080p frames)"
    )
    parser.add_argument(
        "--synthesize", type=int, help="how many 1080p frames to make (default 2 × largest batch)"
    )
    parser.add_argument("--batches", default="1,16,64", help="comma-separated batch sizes")
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per configuration")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved segments per configuration")
    parser.add_argument(
        "--warmup", type=int, help="untimed batches per configuration (default cuda 3, cpu 1)"
    )
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument(
        "--model", type=Path, default=ROOT / "models/ppe", help="model folder or version folder"
    )
    parser.add_argument("--imgsz", type=int, help="square input size instead of the card's (dry runs only)")
    parser.add_argument("--check-images", type=int, default=8, help="images for the detector cross-check")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    batches = [int(b) for b in args.batches.split(",") if b.strip()]
    if not batches or min(batches) < 1 or args.rounds < 1 or args.seconds <= 0:
        parser.error("--batches must be positive integers, --rounds ≥ 1 and --seconds > 0")
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device visible to torch (use --device cpu for a dry run)", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    # One thread by default: on shared cores OpenMP's busy-waiting workers made a CPU forward pass 10-50x
    # slower and erratic (measured on the 2-core dev machine under load); on the GPU host it only affects
    # the little host-side work.
    torch.set_num_threads(max(1, args.threads))
    torch.backends.cudnn.benchmark = True  # fixed shapes per configuration: let cuDNN pick its kernels

    import onnx

    spec = resolve_model(args.model)
    onnx_model = onnx.load(str(spec.onnx_path))
    metadata = {p.key: p.value for p in onnx_model.metadata_props}
    stride = int(metadata["stride"]) if metadata.get("stride", "").isdigit() else DEFAULT_STRIDE
    input_size = (args.imgsz, args.imgsz) if args.imgsz else spec.input_size
    pipeline = Pipeline(spec, stride, device, input_size)

    jpegs = (
        load_images(args.images)
        if args.images
        else synthesize(args.synthesize or 2 * max(batches), args.seed)
    )
    # bytearray: torch.frombuffer wants a writable buffer; the tensors stay on the host, as decode_jpeg needs.
    tensors = [torch.frombuffer(bytearray(j), dtype=torch.uint8) for j in jpegs]
    first = _bgr(jpegs[0])

    networks, skipped = build_networks(onnx_model, spec, device)
    usable: list[Network] = []
    with torch.inference_mode():
        for network in networks:  # one probe batch each: a path that cannot run is reported, not fatal
            try:
                pipeline.detect(network, tensors[:1])
                usable.append(network)
            except Exception as exc:  # a path that cannot run is reported, not fatal
                skipped[network.label] = (
                    f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                )
        check = cross_check(pipeline, usable, jpegs[: args.check_images], tensors[: args.check_images])
        contestants = _contestants(pipeline, usable, tensors, batches)
        warmup = args.warmup if args.warmup is not None else (3 if device.type == "cuda" else 1)
        print(
            f"{len(contestants)} configurations × {args.seconds:g} s (+ warm-up): "
            f"about {len(contestants) * args.seconds:.0f} s of timing",
            file=sys.stderr,
            flush=True,
        )
        measure(contestants, args.seconds, args.rounds, warmup, device, args.seed)

    report: dict[str, Any] = {
        "model": spec.ref,
        "onnx": str(spec.onnx_path),
        "sha256": spec.sha256,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "device_type": device.type,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "onnx2torch": importlib.metadata.version("onnx2torch"),
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "tf32": {"conv": torch.backends.cudnn.allow_tf32, "matmul": torch.backends.cuda.matmul.allow_tf32},
        "canvas": "x".join(map(str, plan(first.shape[:2], input_size, stride).canvas)),
        "images": {
            "source": str(args.images) if args.images else "synthesized from tests/fixtures",
            "count": len(jpegs),
            "size": f"{first.shape[1]}x{first.shape[0]}",
            "mean_kb": round(sum(map(len, jpegs)) / len(jpegs) / 1024, 1),
        },
        "batches": batches,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "warmup": warmup,
        "baseline": BASELINE,
        "notes": {n.label: n.note for n in usable if n.note},
        "skipped": skipped,
        "results": _rows(contestants),
        "decode": [
            {
                "batch": c.batch,
                "images_per_s": round(c.rate, 2),
                "spread": round(c.spread, 3),
                "error": c.error,
            }
            for c in contestants
            if c.mode == "decode"
        ],
        "cross_check": check,
    }
    _print_table(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
