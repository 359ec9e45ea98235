"""Fixed-camera footage for evaluating watched regions: a real photo as the camera's view, sampled every
``interval_s`` for hours, with what cameras do all day and, optionally, a leak composited in at a known
time and place (the ground truth).

Nuisances: a slow lighting cycle (±25 %), auto-exposure jumps (×0.8 / ×1.25, held for minutes), an
infrared night mode (grey picture), sensor noise, JPEG compression, a person standing in the region for a
few minutes (reported as a detected person, as the PPE model would), and a vehicle passing through (not
reported). Leaks grow from their onset: a dark puddle spreading under the region, a drip stain running
down it, or a whitish flickering vapour plume.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
Box = tuple[float, float, float, float]


class LeakStyle(StrEnum):
    PUDDLE = "puddle"
    DRIP = "drip"
    PLUME = "plume"


@dataclass(frozen=True, slots=True)
class Leak:
    style: LeakStyle
    onset_s: float
    grow_s: float  # time to reach full size
    size: float  # full size as a share of the region's shorter side (0.3-0.9)
    strength: float  # darkening (puddle, drip) or haze opacity (plume), 0.25-0.6


@dataclass(frozen=True, slots=True)
class Frame:
    image: Image
    at_s: float
    people: tuple[Box, ...]  # persons a detector would report (occluders)
    leak_area: float  # share of the region the leak covers in this frame (ground truth)


@dataclass(frozen=True, slots=True)
class Scenario:
    base: Image
    region: Box
    hours: float
    interval_s: float = 5.0
    leak: Leak | None = None
    seed: int = 0


def _lighting(t: float, rng_jumps: list[tuple[float, float, float]]) -> float:
    gain = 1.0 + 0.25 * np.sin(2 * np.pi * t / (6 * 3600.0))  # a slow cycle
    for start, end, factor in rng_jumps:
        if start <= t < end:
            gain *= factor
    return float(gain)


def _leak_mask(
    leak: Leak, t: float, width: int, height: int, rng: np.random.Generator
) -> npt.NDArray[np.float32]:
    """Soft mask (0-1) of the leak at time ``t`` in region pixels."""
    mask = np.zeros((height, width), np.float32)
    if t < leak.onset_s:
        return mask
    grown = min(1.0, (t - leak.onset_s) / max(leak.grow_s, 1.0))
    side = min(width, height)
    if leak.style is LeakStyle.PUDDLE:
        axes = (max(1, int(side * leak.size * grown * 0.6)), max(1, int(side * leak.size * grown * 0.3)))
        cv2.ellipse(mask, (width // 2, int(height * 0.8)), axes, 0, 0, 360, 1.0, -1)
    elif leak.style is LeakStyle.DRIP:
        length = int(height * min(1.0, leak.size * 1.2) * grown)
        thickness = max(2, int(side * 0.08 * leak.size + 2))
        cv2.line(
            mask, (width // 2, int(height * 0.1)), (width // 2, int(height * 0.1) + length), 1.0, thickness
        )
    else:
        radius = max(1, int(side * leak.size * grown * 0.5))
        cv2.circle(mask, (width // 2, height // 2), radius, 1.0, -1)
        mask *= float(0.7 + 0.3 * rng.random())  # a plume flickers
    soft: npt.NDArray[np.float32] = cv2.GaussianBlur(mask, (0, 0), max(1.0, side * 0.03)).astype(np.float32)
    return soft


def frames(s: Scenario) -> Iterator[Frame]:
    rng = np.random.default_rng(s.seed)
    height, width = s.base.shape[:2]
    total = s.hours * 3600.0
    jumps = [
        (float(t), float(t + rng.uniform(120, 900)), float(rng.choice([0.8, 1.25])))
        for t in rng.uniform(0, total, 3)
    ]
    night = (total * 0.55, total * 0.75) if s.hours >= 2 else (total, total)
    x1, y1, x2, y2 = (int(v) for v in s.region)
    rw, rh = x2 - x1, y2 - y1
    person_at = float(rng.uniform(0, max(total - 600, 1)))
    person_s = float(rng.uniform(180, 420))
    vehicle_at = float(rng.uniform(0, total))
    base = s.base.astype(np.float32)
    t = 0.0
    while t < total:
        image = base * _lighting(t, jumps)
        area = 0.0
        if s.leak is not None:
            mask = _leak_mask(s.leak, t, rw, rh, rng)
            patch = image[y1:y2, x1:x2]
            before = np.clip(patch, 0, 255).mean(axis=2)
            m = mask[..., None]
            if s.leak.style is LeakStyle.PLUME:
                patch[:] = patch * (1 - m * s.leak.strength) + 235.0 * m * s.leak.strength
            else:
                patch[:] = patch * (1 - m * s.leak.strength)
            # Ground truth: the share of the region the leak visibly changes (≥ 14 levels), so a leak
            # drawn on a surface where it cannot be seen is not counted as a miss before it shows; on
            # the levels a camera can show (a haze over a surface lit past white changes nothing).
            after = np.clip(patch, 0, 255).mean(axis=2)
            area = float((np.abs(after - before) >= 14.0).mean())
        people: tuple[Box, ...] = ()
        if person_at <= t < person_at + person_s:  # someone stands in front of the region
            px1, py1 = x1 + rw // 4, max(0, y1 - rh // 2)
            px2, py2 = min(width, x1 + rw * 3 // 4), min(height, y2 + rh // 4)
            image[py1:py2, px1:px2] = image[py1:py2, px1:px2] * 0.3 + 40.0
            people = ((float(px1), float(py1), float(px2), float(py2)),)
        if vehicle_at <= t < vehicle_at + 3 * s.interval_s:  # a vehicle drives through: a few frames
            vx = int((t - vehicle_at) / (3 * s.interval_s) * width)
            image[height // 3 :, max(0, vx - width // 4) : vx] = 90.0
        if night[0] <= t < night[1]:  # infrared night mode: grey, flatter
            gray = cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(
                np.float32
            )
            image = np.repeat((gray * 0.8 + 20.0)[..., None], 3, axis=2)
        image += rng.normal(0, 3.0, image.shape).astype(np.float32)
        frame = np.clip(image, 0, 255).astype(np.uint8)
        ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 70])
        assert ok
        decoded: Image = np.asarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR), dtype=np.uint8)
        yield Frame(decoded, t, people, area)
        t += s.interval_s


def random_leak(rng: np.random.Generator, hours: float) -> Leak:
    total = hours * 3600.0
    return Leak(
        style=LeakStyle(rng.choice([style.value for style in LeakStyle])),
        onset_s=float(rng.uniform(0.2 * total, 0.6 * total)),
        grow_s=float(rng.uniform(120, 900)),
        size=float(rng.uniform(0.35, 0.9)),
        strength=float(rng.uniform(0.3, 0.6)),
    )
