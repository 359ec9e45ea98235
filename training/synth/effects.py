"""Leak evidence painted onto a scene: drips, sprays, vapour (class ``leak``) and stains/puddles (``stain``).

Every painter alpha-blends into the image and returns the pixel box of what it painted, so the label is
derived from the actual mask rather than from the intended geometry.
"""

from __future__ import annotations

import cv2
import numpy as np

from training.synth.shapes import Joint

Image = np.ndarray
PixelBox = tuple[float, float, float, float]

_LIQUIDS = [(40, 30, 20), (60, 50, 40), (150, 140, 120), (20, 60, 90), (10, 10, 10), (200, 200, 190)]


def _liquid(rng: np.random.Generator) -> tuple[float, float, float]:
    c = np.array(_LIQUIDS[rng.integers(len(_LIQUIDS))], dtype=np.float64) + rng.normal(0, 10, 3)
    return (float(c[0]), float(c[1]), float(c[2]))


def _blend(img: Image, mask: np.ndarray, colour: tuple[float, float, float], alpha: float) -> PixelBox | None:
    """Blend ``colour`` where ``mask`` (float 0..1) is set; return the box of mask > 0.15."""
    ys, xs = np.nonzero(mask > 0.15)
    if len(xs) < 4:
        return None
    a = (mask * alpha)[..., None]
    img[:] = np.clip(img * (1 - a) + np.array(colour) * a, 0, 255).astype(np.uint8)
    return (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))


def _specular(img: Image, mask: np.ndarray, rng: np.random.Generator) -> None:
    """Wet liquid glints: brighten a few mask pixels so drips read as liquid, not paint."""
    ys, xs = np.nonzero(mask > 0.5)
    for i in (
        rng.choice(len(xs), size=min(len(xs), int(rng.integers(2, 8))), replace=False) if len(xs) else []
    ):
        cv2.circle(img, (int(xs[i]), int(ys[i])), 1, (235, 240, 245), -1, cv2.LINE_AA)


def paint_drip(img: Image, joint: Joint, rng: np.random.Generator) -> PixelBox | None:
    """A trickle running down from the joint with falling droplets below it."""
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.float32)
    x, y = joint.x + rng.normal(0, joint.radius * 0.3), joint.y
    length = joint.radius * rng.uniform(1.5, 5.0)
    width = max(1.0, joint.radius * rng.uniform(0.12, 0.3))
    pts = []
    for t in np.linspace(0, 1, 12):
        pts.append((x + np.sin(t * rng.uniform(2, 6)) * width, y + t * length))
    cv2.polylines(mask, [np.array(pts, np.int32)], False, 1.0, max(1, int(width)), cv2.LINE_AA)
    cv2.circle(
        mask, (int(pts[-1][0]), int(pts[-1][1] + width)), max(1, int(width * 1.3)), 1.0, -1, cv2.LINE_AA
    )
    gap_y = pts[-1][1] + width * 3
    for _ in range(int(rng.integers(1, 4))):
        gap_y += rng.uniform(2, 4) * width
        cv2.ellipse(
            mask,
            (int(pts[-1][0] + rng.normal(0, 1)), int(gap_y)),
            (max(1, int(width)), max(1, int(width * 1.6))),
            0,
            0,
            360,
            1.0,
            -1,
            cv2.LINE_AA,
        )
    mask = np.asarray(cv2.GaussianBlur(mask, (3, 3), 0), dtype=np.float32)
    box = _blend(img, mask, _liquid(rng), rng.uniform(0.6, 0.95))
    _specular(img, mask, rng)
    return box


def paint_spray(img: Image, joint: Joint, rng: np.random.Generator) -> PixelBox | None:
    """A fan of fine droplets jetting sideways/upwards from a joint (pressurised leak)."""
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    spread = rng.uniform(0.15, 0.5)
    reach = joint.radius * rng.uniform(2.5, 6.0)
    n = int(rng.integers(60, 220))
    a = ang + rng.normal(0, spread, n)
    r = reach * np.sqrt(rng.uniform(0.02, 1.0, n))
    xs = joint.x + np.cos(a) * r
    ys = joint.y + np.sin(a) * r + (r / reach) ** 2 * reach * 0.3  # gravity sags the jet
    for px, py in zip(xs, ys, strict=True):
        cv2.circle(mask, (int(px), int(py)), int(rng.integers(0, 2)), float(rng.uniform(0.5, 1.0)), -1)
    cv2.line(
        mask,
        (int(joint.x), int(joint.y)),
        (int(joint.x + np.cos(ang) * reach * 0.4), int(joint.y + np.sin(ang) * reach * 0.4)),
        0.8,
        max(1, int(joint.radius * 0.15)),
        cv2.LINE_AA,
    )
    mask = np.asarray(cv2.GaussianBlur(mask, (3, 3), 0), dtype=np.float32)
    colour = (225.0, 225.0, 220.0) if rng.random() < 0.5 else _liquid(rng)
    return _blend(img, mask, colour, rng.uniform(0.5, 0.9))


def paint_vapour(img: Image, joint: Joint, rng: np.random.Generator) -> PixelBox | None:
    """A soft whitish plume rising from the joint (steam / gas vapour)."""
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.float32)
    drift = rng.uniform(-0.6, 0.6)
    height = joint.radius * rng.uniform(3, 7)
    for t in np.linspace(0, 1, 14):
        cx = joint.x + drift * t * height + rng.normal(0, joint.radius * 0.2)
        cy = joint.y - t * height
        r = joint.radius * (0.4 + 1.6 * t) * rng.uniform(0.8, 1.2)
        cv2.circle(mask, (int(cx), int(cy)), max(1, int(r)), float(0.9 - 0.5 * t), -1, cv2.LINE_AA)
    k = int(max(3, joint.radius)) | 1
    mask = np.asarray(cv2.GaussianBlur(mask, (k, k), 0), dtype=np.float32)
    return _blend(img, np.clip(mask, 0, 1), (235.0, 235.0, 235.0), rng.uniform(0.45, 0.8))


def _blob(h: int, w: int, cx: float, cy: float, rx: float, ry: float, rng: np.random.Generator) -> np.ndarray:
    """Irregular organic blob: a polygon with noisy radius, softened at the edge."""
    mask = np.zeros((h, w), np.float32)
    ang = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    noise = rng.uniform(0.6, 1.25, 24)
    noise = (noise + np.roll(noise, 1) + np.roll(noise, -1)) / 3
    pts = np.stack([cx + np.cos(ang) * rx * noise, cy + np.sin(ang) * ry * noise], axis=1).astype(np.int32)
    cv2.fillPoly(mask, [pts], 1.0, cv2.LINE_AA)
    return cv2.GaussianBlur(mask, (5, 5), 0)


def paint_stain(img: Image, rng: np.random.Generator, near: Joint | None = None) -> PixelBox | None:
    """A dried residue stain or a puddle: dark/brownish irregular patch, optionally below a joint."""
    h, w = img.shape[:2]
    if near is not None:
        cx, cy = near.x + rng.normal(0, near.radius), near.y + near.radius * rng.uniform(3, 7)
        rx = near.radius * rng.uniform(1.5, 4)
    else:
        cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.3, 0.95) * h
        rx = rng.uniform(0.04, 0.14) * min(h, w)
    ry = rx * rng.uniform(0.25, 0.8)  # puddles seen at an angle are flat ellipses
    mask = _blob(h, w, cx, cy, rx, ry, rng)
    if rng.random() < 0.5:  # tide-mark ring typical of dried residue
        ring = mask - cv2.erode(mask, np.ones((3, 3), np.uint8), iterations=2)
        mask = np.clip(mask * 0.6 + ring * 0.8, 0, 1)
    colour = _liquid(rng) if rng.random() < 0.6 else (30.0, 60.0, 100.0)
    box = _blend(img, mask, colour, rng.uniform(0.35, 0.75))
    if rng.random() < 0.4:
        _specular(img, mask, rng)
    return box
