"""Scene composition: background → hardware → leak evidence → camera effects, with YOLO labels.

Classes: 0 ``leak`` (active drip / spray / vapour at a joint), 1 ``stain`` (puddle or dried residue,
no visible flow), 2 ``corrosion`` (from real photos). Deterministic: the same (seed, index) always
yields the same image and labels, independent of how many workers generate the set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

import cv2
import numpy as np

from training.synth.corrosion import CorrosionPhoto
from training.synth.effects import PixelBox, paint_drip, paint_spray, paint_stain, paint_vapour
from training.synth.shapes import draw_hardware

LEAK, STAIN, CORROSION = 0, 1, 2
CLASS_NAMES = ("leak", "stain", "corrosion")
_MIN_SIDE_PX = 3.0


@dataclass(frozen=True)
class Label:
    """YOLO label: class id and normalised centre/size."""

    cls: int
    cx: float
    cy: float
    w: float
    h: float

    def line(self) -> str:
        return f"{self.cls} {self.cx:.6f} {self.cy:.6f} {self.w:.6f} {self.h:.6f}"


@dataclass(frozen=True)
class Sample:
    image: np.ndarray
    labels: tuple[Label, ...]


def _rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, index])


def _background(bgs: list[np.ndarray], size: int, rng: np.random.Generator) -> np.ndarray:
    """Random crop of a real photo (or a plain wall/ground gradient when none are given)."""
    if not bgs:
        base = rng.uniform(60, 200, 3)
        img = np.tile(np.linspace(0.7, 1.1, size)[:, None, None] * base, (1, size, 1))
        return np.clip(img + rng.normal(0, 6, (size, size, 3)), 0, 255).astype(np.uint8)
    src = bgs[int(rng.integers(len(bgs)))]
    h, w = src.shape[:2]
    side = int(min(h, w) * rng.uniform(0.5, 1.0))
    y0, x0 = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    crop = src[y0 : y0 + side, x0 : x0 + side]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return cv2.resize(np.ascontiguousarray(crop), (size, size), interpolation=cv2.INTER_AREA)


def _paste_corrosion(img: np.ndarray, photo: CorrosionPhoto, rng: np.random.Generator) -> PixelBox | None:
    """Paste one labelled corrosion region (with a little context) at a random place and scale."""
    box = photo.boxes[int(rng.integers(len(photo.boxes)))]
    ph, pw = photo.image.shape[:2]
    x1, y1, x2, y2 = int(box.x1 * pw), int(box.y1 * ph), int(box.x2 * pw), int(box.y2 * ph)
    if x2 - x1 < 4 or y2 - y1 < 4:
        return None
    patch = photo.image[y1:y2, x1:x2]
    size = img.shape[0]
    scale = size * rng.uniform(0.12, 0.45) / max(patch.shape[:2])
    tw, th = max(4, int(patch.shape[1] * scale)), max(4, int(patch.shape[0] * scale))
    if tw >= size or th >= size:
        return None
    patch = cv2.resize(patch, (tw, th), interpolation=cv2.INTER_AREA)
    px, py = int(rng.integers(0, size - tw)), int(rng.integers(0, size - th))
    # feathered edge so the paste boundary is not a trivial cue
    alpha = np.ones((th, tw), np.float32)
    alpha = np.asarray(
        cv2.GaussianBlur(
            cv2.copyMakeBorder(alpha[2:-2, 2:-2], 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=0.0), (5, 5), 0
        ),
        dtype=np.float32,
    )[..., None]
    roi = img[py : py + th, px : px + tw].astype(np.float32)
    img[py : py + th, px : px + tw] = (roi * (1 - alpha) + patch * alpha).astype(np.uint8)
    return (float(px), float(py), float(px + tw), float(py + th))


def _whole_corrosion(photo: CorrosionPhoto, size: int) -> tuple[np.ndarray, list[tuple[int, PixelBox]]]:
    """Use a real corrosion photo as the whole scene (letterboxed square), with its own boxes."""
    h, w = photo.image.shape[:2]
    s = size / max(h, w)
    nw, nh = int(w * s), int(h * s)
    canvas = np.full((size, size, 3), 114, np.uint8)
    ox, oy = (size - nw) // 2, (size - nh) // 2
    canvas[oy : oy + nh, ox : ox + nw] = cv2.resize(photo.image, (nw, nh), interpolation=cv2.INTER_AREA)
    boxes = [
        (CORROSION, (ox + b.x1 * nw, oy + b.y1 * nh, ox + b.x2 * nw, oy + b.y2 * nh)) for b in photo.boxes
    ]
    return canvas, boxes


def _camera(img: np.ndarray, boxes: list[tuple[int, PixelBox]], rng: np.random.Generator) -> np.ndarray:
    """Viewpoint (perspective warp, boxes warped too), lighting, blur, noise and JPEG artefacts."""
    size = img.shape[0]
    if rng.random() < 0.6:
        j = size * 0.08
        src = np.array([[0, 0], [size, 0], [size, size], [0, size]], dtype=np.float32)
        dst = (src + rng.uniform(-j, j, (4, 2))).astype(np.float32)
        m = cv2.getPerspectiveTransform(src, dst)
        img = cv2.warpPerspective(img, m, (size, size), borderMode=cv2.BORDER_REFLECT)
        warped = []
        for cls, (x1, y1, x2, y2) in boxes:
            corners = np.array([[[x1, y1], [x2, y1], [x2, y2], [x1, y2]]], dtype=np.float32)
            pts = np.asarray(cv2.perspectiveTransform(corners, m))[0]
            warped.append(
                (
                    cls,
                    (
                        float(pts[:, 0].min()),
                        float(pts[:, 1].min()),
                        float(pts[:, 0].max()),
                        float(pts[:, 1].max()),
                    ),
                )
            )
        boxes[:] = warped
    # float32 here, float64 after the per-channel gain below
    f: np.ndarray = img.astype(np.float32)
    gain = rng.uniform(0.55, 1.35)
    f = f * gain * rng.uniform(0.9, 1.1, 3) + rng.uniform(-25, 25)
    if rng.random() < 0.4:  # directional light falloff
        ramp = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(1.0, 1.3), size, dtype=np.float32)
        f *= ramp[None, :, None] if rng.random() < 0.5 else ramp[:, None, None]
    f += rng.normal(0, rng.uniform(0, 8), f.shape)
    img = np.clip(f, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        k = int(rng.choice([3, 5]))
        img = cv2.GaussianBlur(img, (k, k), 0)
    ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(35, 95))])
    return cast(np.ndarray, cv2.imdecode(enc, cv2.IMREAD_COLOR)) if ok else img


def _to_labels(boxes: list[tuple[int, PixelBox]], size: int) -> tuple[Label, ...]:
    out = []
    for cls, (x1, y1, x2, y2) in boxes:
        x1, y1, x2, y2 = max(0.0, x1), max(0.0, y1), min(float(size), x2), min(float(size), y2)
        if x2 - x1 < _MIN_SIDE_PX or y2 - y1 < _MIN_SIDE_PX:
            continue
        out.append(Label(cls, (x1 + x2) / 2 / size, (y1 + y2) / 2 / size, (x2 - x1) / size, (y2 - y1) / size))
    return tuple(out)


def make_sample(
    seed: int, index: int, size: int, backgrounds: list[np.ndarray], corrosion: list[CorrosionPhoto]
) -> Sample:
    """Generate sample ``index`` of the set seeded by ``seed``."""
    rng = _rng(seed, index)
    boxes: list[tuple[int, PixelBox]] = []
    if corrosion and rng.random() < 0.12:
        img, boxes = _whole_corrosion(corrosion[int(rng.integers(len(corrosion)))], size)
        return Sample(_camera(img, boxes, rng), _to_labels(boxes, size))
    img = _background(backgrounds, size, rng).copy()
    joints = draw_hardware(img, rng) if rng.random() < 0.9 else []
    if rng.random() < 0.3:
        joints += draw_hardware(img, rng)
    for joint in joints:
        r = rng.random()
        if r < 0.25:  # sound joint: hardware without a leak teaches the model it is not the cue
            continue
        painter = paint_drip if r < 0.6 else paint_spray if r < 0.8 else paint_vapour
        box = painter(img, joint, rng)
        if box is not None:
            boxes.append((LEAK, box))
        if rng.random() < 0.35:
            sbox = paint_stain(img, rng, near=joint)
            if sbox is not None:
                boxes.append((STAIN, sbox))
    for _ in range(int(rng.integers(0, 3)) if rng.random() < 0.5 else 0):
        sbox = paint_stain(img, rng)
        if sbox is not None:
            boxes.append((STAIN, sbox))
    if corrosion and rng.random() < 0.35:
        for _ in range(int(rng.integers(1, 3))):
            cbox = _paste_corrosion(img, corrosion[int(rng.integers(len(corrosion)))], rng)
            if cbox is not None:
                boxes.append((CORROSION, cbox))
    return Sample(_camera(img, boxes, rng), _to_labels(boxes, size))


def load_backgrounds(dirs: list[Path], limit: int, max_side: int = 480, seed: int = 0) -> list[np.ndarray]:
    """Load up to ``limit`` background photos (deterministic pick), downsized to keep memory small."""
    files = sorted(p for d in dirs for p in d.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    if len(files) > limit:
        pick = np.random.default_rng(seed).choice(len(files), size=limit, replace=False)
        files = [files[i] for i in sorted(pick)]
    out = []
    for f in files:
        img = cv2.imread(str(f), cv2.IMREAD_COLOR)
        if img is None:
            continue
        s = max_side / max(img.shape[:2])
        if s < 1:
            img = cv2.resize(
                img, (int(img.shape[1] * s), int(img.shape[0] * s)), interpolation=cv2.INTER_AREA
            )
        out.append(img)
    return out


def write_dataset(
    out: Path,
    split: str,
    seed: int,
    count: int,
    size: int,
    backgrounds: list[np.ndarray],
    corrosion: list[CorrosionPhoto],
) -> int:
    """Write ``count`` samples as YOLO ``out/images/<split>`` + ``out/labels/<split>``.

    Returns the number of labels written.
    """
    img_dir, lbl_dir = out / "images" / split, out / "labels" / split
    img_dir.mkdir(parents=True, exist_ok=True)
    lbl_dir.mkdir(parents=True, exist_ok=True)
    n_labels = 0
    for i in range(count):
        s = make_sample(seed, i, size, backgrounds, corrosion)
        name = f"synth_{seed}_{i:06d}"
        cv2.imwrite(str(img_dir / f"{name}.jpg"), s.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
        (lbl_dir / f"{name}.txt").write_text("".join(lb.line() + "\n" for lb in s.labels))
        n_labels += len(s.labels)
    return n_labels
