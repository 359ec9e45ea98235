"""Camera-scale inference: detect in overlapping tiles of a large frame, merged with the detector's NMS.

A 1920x1080 CCTV frame letterboxed to a 640 model shrinks a 24-pixel head to 8 pixels: below what the
network resolves. Cutting the frame into model-sized tiles feeds every head at full resolution. The full
frame is inspected too, so a worker larger than a tile (close to the camera) is still seen whole; boxes
from the tiles and the full frame are merged by class-wise NMS, and a box cut by a tile's inner edge is
dropped when another box of its class contains most of it.

Why not SAHI: it wraps its own model adapters (ultralytics/torch at run time, which serving must not
import) and works on PIL images; what it does for us is the ~60 lines below, on our own ONNX runtime.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from vision.detections import Detections
from vision.nms import batched_nms

Image = npt.NDArray[np.uint8]
TilingMode = Literal["off", "auto"] | int  # off, auto (by frame size), or a tile side in frame pixels
AUTO_FACTOR = 2.0  # auto tiles a frame whose long side is at least this many model inputs long
_CONTAINED = 0.7  # a box this much inside a more confident box of its class is a fragment of it


@dataclass(frozen=True, slots=True)
class Tiling:
    tile: int  # side of a square tile in frame pixels
    overlap: float = 0.2  # share of a tile shared with its neighbour

    def __post_init__(self) -> None:
        if self.tile < 32:
            raise ValueError(f"tile side must be at least 32 pixels, got {self.tile}")
        if not 0.0 <= self.overlap < 0.9:
            raise ValueError(f"tile overlap must be in [0, 0.9), got {self.overlap}")


def resolve(mode: TilingMode, frame_hw: tuple[int, int], model_input: int) -> Tiling | None:
    """The tiling for one frame: None when the whole frame goes to the model as it is."""
    if mode == "off":
        return None
    if mode == "auto":
        return Tiling(model_input) if max(frame_hw) >= AUTO_FACTOR * model_input else None
    return Tiling(int(mode)) if max(frame_hw) > int(mode) else None


def _starts(length: int, tile: int, step: int) -> list[int]:
    if length <= tile:
        return [0]
    count = math.ceil((length - tile) / step) + 1
    return [min(i * step, length - tile) for i in range(count)]


def tile_grid(frame_hw: tuple[int, int], tiling: Tiling) -> list[tuple[int, int, int, int]]:
    """Tiles (x1, y1, x2, y2) covering the frame, the last row/column flush with its edge."""
    height, width = frame_hw
    step = max(1, round(tiling.tile * (1.0 - tiling.overlap)))
    return [
        (x, y, min(x + tiling.tile, width), min(y + tiling.tile, height))
        for y in _starts(height, tiling.tile, step)
        for x in _starts(width, tiling.tile, step)
    ]


def _drop_fragments(det: Detections) -> Detections:
    """Remove boxes mostly inside a more confident box of the same class (a head cut by a tile edge)."""
    if len(det) < 2:
        return det
    order = np.argsort(-det.confidences, kind="stable")
    boxes = det.boxes
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    for i in order:
        same = [k for k in keep if det.class_ids[k] == det.class_ids[i]]
        if same:
            kb = boxes[same]
            w = np.minimum(kb[:, 2], boxes[i, 2]) - np.maximum(kb[:, 0], boxes[i, 0])
            h = np.minimum(kb[:, 3], boxes[i, 3]) - np.maximum(kb[:, 1], boxes[i, 1])
            inside = np.maximum(w, 0) * np.maximum(h, 0) / max(float(areas[i]), 1e-6)
            if float(inside.max()) >= _CONTAINED:
                continue
        keep.append(int(i))
    mask = np.zeros(len(det), bool)
    mask[keep] = True
    return det.filter(mask)


def detect_tiled(
    detect_many: Callable[[Sequence[Image]], list[Detections]],
    image: Image,
    tiling: Tiling,
    iou_threshold: float,
) -> Detections:
    """Detections of the full frame and of every tile, in frame pixels, merged."""
    tiles = tile_grid((image.shape[0], image.shape[1]), tiling)
    crops = [image] + [np.ascontiguousarray(image[y1:y2, x1:x2]) for x1, y1, x2, y2 in tiles]
    results = detect_many(crops)
    offsets = [(0, 0)] + [(x1, y1) for x1, y1, _, _ in tiles]
    parts = [
        d.boxes + np.array([dx, dy, dx, dy], np.float32) for d, (dx, dy) in zip(results, offsets, strict=True)
    ]
    names = results[0].class_names
    boxes = np.concatenate(parts).astype(np.float32).reshape(-1, 4)
    scores = np.concatenate([d.confidences for d in results]).astype(np.float32)
    classes = np.concatenate([d.class_ids for d in results]).astype(np.int64)
    keep = batched_nms(boxes, scores, classes, iou_threshold)
    merged = Detections(boxes[keep], scores[keep], classes[keep], names)
    return _drop_fragments(merged)
