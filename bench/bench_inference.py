"""Inference throughput on the same images, in one process (issue 2's benchmark).

    python bench/bench_inference.py [--images 200] [--model ppe] [--threads N]

Compares, at batch 1 on CPU: (a) the raw onnxruntime session alone on pre-letterboxed tensors,
(b) hazardeye's full path per image (decode JPEG → letterbox → infer → NMS → findings) and
(c) ultralytics' own ``YOLO("model.onnx").predict`` (only if the [train] extra is installed).
Prints images/s and ratios against (a). Uses ../shared/datasets/hardhat/valid; skips cleanly without it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from vision.images import decode_image
from vision.letterbox import letterbox, to_input_tensor
from vision.onnx_detector import DetectorOptions
from vision.registry import ModelRegistry
from vision.rules import findings_for

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets" / "hardhat" / "valid" / "images"


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--model", default="ppe")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads")
    args = parser.parse_args()
    paths = sorted(DATA.glob("*.jpg"))[: args.images]
    if not paths:
        print(f"skipped: no images under {DATA}")
        return 0
    blobs = [p.read_bytes() for p in paths]
    registry = ModelRegistry(ROOT / "models", options=DetectorOptions(intra_op_threads=args.threads))
    entry, detector = registry.detector(args.model)
    print(f"{entry.ref}: {len(blobs)} images, input {entry.card.input_size}, providers {detector.providers}")

    decoded = [decode_image(b, source=p.name, max_pixels=10**8) for b, p in zip(blobs, paths, strict=True)]
    tensors = [to_input_tensor([letterbox(image, entry.card.input_size)[0]]) for image in decoded]
    session = detector._session  # the same session: (a) isolates the runtime's own cost
    name = session.get_inputs()[0].name
    for tensor in tensors[:5]:
        session.run(None, {name: tensor})

    start = time.perf_counter()
    for tensor in tensors:
        session.run(None, {name: tensor})
    raw = _rate(len(tensors), time.perf_counter() - start)

    start = time.perf_counter()
    for blob, path in zip(blobs, paths, strict=True):
        findings_for(detector.detect(decode_image(blob, source=path.name, max_pixels=10**8)))
    full = _rate(len(blobs), time.perf_counter() - start)

    print(f"raw onnxruntime session        {raw:8.1f} img/s   1.00x")
    print(f"hazardeye full path (batch 1)  {full:8.1f} img/s   {full / raw:.2f}x of raw")
    try:
        from ultralytics import YOLO  # optional: the [train] extra
    except ImportError:
        print("ultralytics not installed: skipped its predict")
        return 0
    model = YOLO(str(entry.model_path), task="detect")
    imgsz = entry.card.input_size[0]
    model.predict(np.zeros((64, 64, 3), np.uint8), imgsz=imgsz, verbose=False)
    start = time.perf_counter()
    for path in paths:
        model.predict(str(path), imgsz=imgsz, verbose=False, conf=entry.card.default_threshold)
    ultra = _rate(len(paths), time.perf_counter() - start)
    print(f"ultralytics YOLO(onnx).predict {ultra:8.1f} img/s   {ultra / raw:.2f}x of raw")
    print(f"hazardeye / ultralytics: {full / ultra:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
