"""Reviewed evidence → YOLO training data: the retraining loop's export step.

The serving layer's review queue will produce ``ReviewedImage`` values (confirmed/corrected boxes); this
module only knows these frozen types, never the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vision.images import decode_image, read_image

_MAX_PIXELS = 50_000_000


@dataclass(frozen=True)
class ReviewedDetection:
    """A box a reviewer confirmed or corrected: class name and xyxy pixels of the original image."""

    label: str
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class ReviewedImage:
    """One reviewed image: encoded bytes or a file path, plus its full set of reviewed boxes.

    An image with no detections is a confirmed negative (useful background for training).
    """

    source: bytes | Path
    detections: tuple[ReviewedDetection, ...]
    name: str | None = None


@dataclass(frozen=True)
class ExportResult:
    images: int
    boxes: int
    skipped_unknown_labels: int


def export_reviewed(
    items: Iterable[ReviewedImage], class_names: Sequence[str], out_dir: Path, split: str = "train"
) -> ExportResult:
    """Write reviewed images as JPEG/PNG-as-given + YOLO labels under ``out_dir/{images,labels}/<split>``."""
    img_dir, lbl_dir = out_dir / "images" / split, out_dir / "labels" / split
    img_dir.mkdir(parents=True, exist_ok=True)
    lbl_dir.mkdir(parents=True, exist_ok=True)
    n_img = n_box = skipped = 0
    for item in items:
        if isinstance(item.source, Path):
            data = item.source.read_bytes()
            image = read_image(item.source, max_pixels=_MAX_PIXELS)
            suffix = item.source.suffix.lower() or ".jpg"
        else:
            data = item.source
            image = decode_image(data, source=item.name or "<bytes>", max_pixels=_MAX_PIXELS)
            suffix = ".png" if data[:8] == b"\x89PNG\r\n\x1a\n" else ".jpg"
        h, w = image.shape[:2]
        # content hash in the name: re-exporting the same evidence overwrites instead of duplicating
        stem = item.name or f"reviewed_{hashlib.sha256(data).hexdigest()[:16]}"
        lines: list[str] = []
        for d in item.detections:
            if d.label not in class_names:
                skipped += 1
                continue
            x1, y1, x2, y2 = (max(0.0, min(v, lim)) for v, lim in zip(d.box, (w, h, w, h), strict=True))
            if x2 - x1 < 1 or y2 - y1 < 1:
                skipped += 1
                continue
            cls = list(class_names).index(d.label)
            lines.append(
                f"{cls} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} "
                f"{(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}"
            )
        (img_dir / f"{stem}{suffix}").write_bytes(data)
        (lbl_dir / f"{stem}.txt").write_text("".join(ln + "\n" for ln in lines))
        n_img, n_box = n_img + 1, n_box + len(lines)
    names_yaml = "".join(f"  {i}: {n}\n" for i, n in enumerate(class_names))
    (out_dir / "data.yaml").write_text(
        f"path: {out_dir.resolve()}\n{split}: images/{split}\nnames:\n{names_yaml}"
    )
    return ExportResult(n_img, n_box, skipped)
