"""Tiled vs whole-frame inference on CCTV-scale frames: what tiling gains in AP and costs in time (issue 11).

    nice -n 5 python bench/bench_tiling.py [--model models/ppe/2] [--frames 12] [--grid 6x5] [--tile auto]

No labelled overhead CCTV set is reachable, so the frames are made from held-out photos: each 1920x1080
frame is a grid of Hard Hat Workers *valid* photos shrunk to a cell (6x5 cells: a 500-pixel photo becomes
320 pixels wide, its heads 15-40 pixels: the size of far workers on a plant camera), with their labels
scaled along. Both contestants see the same frames; AP50 per class comes from hazardeye's own metrics,
time per frame from the same process (interleaved per frame). Needs ../shared; prints "skipped" without it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from training.metrics import ImageResult, evaluate
from training.yolo_dataset import list_images, load_images
from vision.model_card import read_card
from vision.onnx_detector import DetectorOptions, OnnxDetector
from vision.tiling import detect_tiled, resolve

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT.parent / "shared" / "datasets" / "hardhat" / "valid" / "images"
NAMES = ("head", "helmet", "person")


def composite_frames(count: int, cols: int, rows: int, seed: int = 0) -> list[tuple[np.ndarray, ImageResult]]:
    dataset, _ = load_images(list_images(VALID), NAMES, VALID, check_images=False)
    items = list(dataset.items)
    random.Random(seed).shuffle(items)
    cw, ch = 1920 // cols, 1080 // rows
    frames = []
    for f in range(count):
        canvas = np.full((1080, 1920, 3), 90, np.uint8)
        boxes, classes = [], []
        for k, item in enumerate(items[f * cols * rows : (f + 1) * cols * rows]):
            photo = cv2.imread(str(item.image))
            if photo is None:
                continue
            h, w = photo.shape[:2]
            s = min(cw / w, ch / h)
            nw, nh = int(w * s), int(h * s)
            x0, y0 = (k % cols) * cw, (k // cols) * ch
            canvas[y0 : y0 + nh, x0 : x0 + nw] = cv2.resize(photo, (nw, nh), interpolation=cv2.INTER_AREA)
            for b in item.boxes:
                x1, y1, x2, y2 = b.xyxy(nw, nh)
                boxes.append((x0 + x1, y0 + y1, x0 + x2, y0 + y2))
                classes.append(b.cls)
        gt = ImageResult(
            np.array(boxes, np.float64).reshape(-1, 4),
            np.array(classes, np.int64),
            np.zeros((0, 4)),
            np.zeros(0),
            np.zeros(0, np.int64),
        )
        frames.append((canvas, gt))
    return frames


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=None, help="model folder (model.onnx + card.json)")
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--grid", default="6x5")
    parser.add_argument("--tile", default="auto")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if not VALID.is_dir():
        print(f"skipped: {VALID} not found")
        return 0
    folder = args.model or max((ROOT / "models" / "ppe").glob("[0-9]*"), key=lambda p: int(p.name))
    card = read_card(folder / "card.json")
    detector = OnnxDetector(
        folder / "model.onnx",
        card.classes,
        card.input_size,
        default_threshold=0.001,
        options=DetectorOptions(intra_op_threads=args.threads, iou_threshold=card.iou_threshold),
    )
    cols, rows = (int(v) for v in args.grid.split("x"))
    frames = composite_frames(args.frames, cols, rows)
    mode = args.tile if args.tile in ("off", "auto") else int(args.tile)
    plan = resolve(mode, (1080, 1920), max(card.input_size))
    if plan is None:
        print(f"tiling {mode!r} does not tile a 1920x1080 frame for a {card.input_size} model")
        return 1
    mapping = [NAMES.index(c) if c in NAMES else -1 for c in card.classes]
    results: dict[str, list[ImageResult]] = {"whole": [], "tiled": []}
    seconds: dict[str, list[float]] = {"whole": [], "tiled": []}
    for image, gt in frames:
        runs = {
            "whole": lambda im=image: detector.detect(im),
            "tiled": lambda im=image: detect_tiled(detector.detect_many, im, plan, card.iou_threshold),
        }
        for name in random.sample(list(runs), 2):
            start = time.perf_counter()
            det = runs[name]()
            seconds[name].append(time.perf_counter() - start)
            pc = np.array([mapping[c] for c in det.class_ids], np.int64)
            keep = pc >= 0
            results[name].append(
                ImageResult(
                    gt.gt_boxes,
                    gt.gt_classes,
                    det.boxes.astype(np.float64)[keep],
                    det.confidences.astype(np.float64)[keep],
                    pc[keep],
                )
            )
    thresholds = [card.threshold(n) for n in NAMES]
    print(
        f"{card.ref} input {card.input_size}, {len(frames)} frames 1920x1080 of {cols}x{rows} photos; "
        f"tile {plan.tile} px overlap {plan.overlap}, {args.threads} thread(s)"
    )
    base = statistics.median(seconds["whole"])
    for name in ("whole", "tiled"):
        m = evaluate(results[name], NAMES, thresholds)
        per = {c.name: round(c.ap50, 3) for c in m.per_class if c.ground_truths}
        rec = {c.name: round(c.recall, 3) for c in m.per_class if c.ground_truths}
        med = statistics.median(seconds[name])
        print(
            f"  {name:5s} AP50 {per}  recall@card {rec}  median {med * 1e3:6.0f} ms/frame "
            f"({med / base:4.1f}x whole)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
