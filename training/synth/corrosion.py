"""Real corrosion photos (CC BY 4.0, Roboflow "corrosion-detection-primary" v3) as a source of corrosion.

Their YOLO labels mix boxes (5 numbers) and polygons (class + x,y pairs); both are reduced to an
axis-aligned box here, since the leak model is a box detector.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

CORROSION_ATTRIBUTION = (
    'Corrosion photos: "Corrosion Detection Primary" v3 by meenalsanghvi (Roboflow Universe, '
    "https://universe.roboflow.com/meenalsanghvi/corrosion-detection-primary/dataset/3), CC BY 4.0; "
    "source github.com/Meenal-Sanghvi/Corrosion-Detection-using-YOLOv5."
)


@dataclass(frozen=True)
class NormBox:
    """Normalised xyxy box in [0, 1]."""

    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class CorrosionPhoto:
    """One real corrosion photo (resized copy in memory) and its corrosion boxes."""

    name: str
    image: np.ndarray
    boxes: tuple[NormBox, ...]


def parse_label_line(line: str) -> NormBox | None:
    """Parse a YOLO box or polygon line into a normalised xyxy box; None for blank/malformed lines."""
    parts = line.split()
    if len(parts) < 5:
        return None
    try:
        vals = [float(v) for v in parts[1:]]
    except ValueError:
        return None
    if len(vals) == 4:
        cx, cy, bw, bh = vals
        x1, y1, x2, y2 = cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2
    elif len(vals) >= 6 and len(vals) % 2 == 0:
        xs, ys = vals[0::2], vals[1::2]
        x1, y1, x2, y2 = min(xs), min(ys), max(xs), max(ys)
    else:
        return None
    x1, y1, x2, y2 = (min(1.0, max(0.0, v)) for v in (x1, y1, x2, y2))
    if x2 - x1 <= 0 or y2 - y1 <= 0:
        return None
    return NormBox(x1, y1, x2, y2)


def read_split(root: Path) -> dict[str, str]:
    """``splits.txt`` (stem + split per line) → {stem: split}; empty if the file is absent."""
    path = root / "splits.txt"
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = parts[1]
    return out


def load_corrosion(
    root: Path, splits: tuple[str, ...] | None = None, max_side: int = 480
) -> list[CorrosionPhoto]:
    """Load photos from ``root/images`` + ``root/labels``, optionally only the given original splits."""
    split_of = read_split(root)
    photos: list[CorrosionPhoto] = []
    for img_path in sorted((root / "images").glob("*.jpg")):
        if splits is not None and split_of.get(img_path.stem) not in splits:
            continue
        lbl = root / "labels" / f"{img_path.stem}.txt"
        if not lbl.exists():
            continue
        boxes = tuple(b for b in (parse_label_line(x) for x in lbl.read_text().splitlines()) if b is not None)
        img = cv2.imread(str(img_path), cv2.IMREAD_COLOR)
        if img is None or not boxes:
            continue
        s = max_side / max(img.shape[:2])
        if s < 1:
            img = cv2.resize(
                img, (int(img.shape[1] * s), int(img.shape[0] * s)), interpolation=cv2.INTER_AREA
            )
        photos.append(CorrosionPhoto(img_path.stem, img, boxes))
    return photos
