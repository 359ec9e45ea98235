"""Procedural plant hardware drawn with OpenCV: shaded pipes, bolted flanges and valves.

Each drawer returns the joint points where a leak can plausibly start (flange faces, valve stems),
so leaks are placed where real ones occur rather than anywhere in the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Image = np.ndarray


@dataclass(frozen=True)
class Joint:
    """A point on drawn hardware where a leak may originate, with the local pipe radius."""

    x: float
    y: float
    radius: float


def _metal_colour(rng: np.random.Generator) -> tuple[int, int, int]:
    palettes = [(150, 150, 150), (60, 90, 160), (40, 120, 60), (70, 70, 75), (40, 140, 200), (180, 180, 175)]
    base = np.array(palettes[rng.integers(len(palettes))], dtype=np.float64)
    base = np.clip(base * rng.uniform(0.7, 1.2) + rng.normal(0, 12, 3), 10, 245)
    return (int(base[0]), int(base[1]), int(base[2]))


def draw_pipe(
    img: Image, p0: tuple[float, float], p1: tuple[float, float], radius: float, colour: tuple[int, int, int]
) -> None:
    """Draw a cylindrical pipe segment with cross-sectional shading (bright ridge, dark edges)."""
    (x0, y0), (x1, y1) = p0, p1
    d = np.array([x1 - x0, y1 - y0], dtype=np.float64)
    n = np.linalg.norm(d)
    if n < 1:
        return
    perp = np.array([-d[1], d[0]]) / n
    steps = max(3, int(radius))
    for i in range(steps, -1, -1):
        t = i / steps  # 1 = edge, 0 = centre line
        shade = 0.45 + 0.75 * (1 - t**2)  # Lambert-ish falloff across the cylinder
        c = tuple(int(min(255, v * shade)) for v in colour)
        off = perp * radius * t
        for s in (1, -1):
            a = (int(x0 + s * off[0]), int(y0 + s * off[1]))
            b = (int(x1 + s * off[0]), int(y1 + s * off[1]))
            cv2.line(img, a, b, c, max(2, int(radius / steps) + 2), cv2.LINE_AA)


def draw_flange(
    img: Image,
    centre: tuple[float, float],
    axis_angle: float,
    radius: float,
    colour: tuple[int, int, int],
    rng: np.random.Generator,
) -> None:
    """Draw a bolted flange pair seen roughly side-on: two thick rings with bolt heads."""
    cx, cy = centre
    ring_r = radius * rng.uniform(1.5, 1.9)
    thick = radius * rng.uniform(0.25, 0.45)
    ang = np.deg2rad(axis_angle)
    ax = np.array([np.cos(ang), np.sin(ang)])
    perp = np.array([-ax[1], ax[0]])
    for side in (-1, 1):
        c = np.array([cx, cy]) + ax * side * thick * 0.6
        pts = np.array(
            [
                c + perp * ring_r + ax * thick / 2,
                c + perp * ring_r - ax * thick / 2,
                c - perp * ring_r - ax * thick / 2,
                c - perp * ring_r + ax * thick / 2,
            ],
            dtype=np.int32,
        )
        shade = 0.8 if side < 0 else 1.05
        cv2.fillConvexPoly(img, pts, tuple(int(min(255, v * shade)) for v in colour), cv2.LINE_AA)
        cv2.polylines(img, [pts], True, tuple(int(v * 0.5) for v in colour), 1, cv2.LINE_AA)
    bolts = int(rng.integers(2, 5))
    for k in range(bolts):
        t = -1 + 2 * (k + 0.5) / bolts
        b = np.array([cx, cy]) + perp * ring_r * 0.8 * t
        br = max(1, int(thick * 0.35))
        cv2.circle(img, (int(b[0]), int(b[1])), br + 1, (40, 40, 40), -1, cv2.LINE_AA)
        cv2.circle(img, (int(b[0]), int(b[1])), br, (120, 120, 125), -1, cv2.LINE_AA)


def draw_valve(
    img: Image,
    centre: tuple[float, float],
    radius: float,
    colour: tuple[int, int, int],
    rng: np.random.Generator,
) -> Joint:
    """Draw a valve body (ellipse), stem and handwheel above it; returns the stem joint."""
    cx, cy = centre
    body = (int(radius * rng.uniform(1.4, 2.0)), int(radius * rng.uniform(1.1, 1.5)))
    cv2.ellipse(img, (int(cx), int(cy)), body, 0, 0, 360, colour, -1, cv2.LINE_AA)
    cv2.ellipse(
        img,
        (int(cx - body[0] * 0.3), int(cy - body[1] * 0.3)),
        (max(1, body[0] // 3), max(1, body[1] // 3)),
        0,
        0,
        360,
        tuple(int(min(255, v * 1.3)) for v in colour),
        -1,
        cv2.LINE_AA,
    )
    stem_top = cy - body[1] - radius * rng.uniform(1.0, 2.0)
    cv2.line(
        img, (int(cx), int(cy - body[1])), (int(cx), int(stem_top)), (90, 90, 90), max(2, int(radius * 0.3))
    )
    wheel = (int(radius * rng.uniform(1.2, 2.0)), max(2, int(radius * 0.35)))
    wheel_colour = (30, 30, 200) if rng.random() < 0.6 else _metal_colour(rng)
    cv2.ellipse(
        img, (int(cx), int(stem_top)), wheel, 0, 0, 360, wheel_colour, max(2, int(radius * 0.25)), cv2.LINE_AA
    )
    return Joint(cx, cy - body[1], radius)


def draw_hardware(img: Image, rng: np.random.Generator) -> list[Joint]:
    """Draw a pipe run with one or two fittings (flanges / valves); return the leak-capable joints."""
    h, w = img.shape[:2]
    colour = _metal_colour(rng)
    radius = float(rng.uniform(0.03, 0.08) * min(h, w))
    horizontal = rng.random() < 0.65
    if horizontal:
        y = rng.uniform(0.2, 0.7) * h
        tilt = rng.uniform(-0.15, 0.15) * h
        p0, p1 = (-10.0, y), (w + 10.0, y + tilt)
    else:
        x = rng.uniform(0.2, 0.8) * w
        p0, p1 = (x, -10.0), (x + rng.uniform(-0.1, 0.1) * w, h + 10.0)
    draw_pipe(img, p0, p1, radius, colour)
    joints: list[Joint] = []
    angle = float(np.degrees(np.arctan2(p1[1] - p0[1], p1[0] - p0[0])))
    for _ in range(int(rng.integers(1, 3))):
        t = rng.uniform(0.2, 0.8)
        c = (p0[0] + t * (p1[0] - p0[0]), p0[1] + t * (p1[1] - p0[1]))
        if rng.random() < 0.65:
            draw_flange(img, c, angle, radius, colour, rng)
            joints.append(Joint(c[0], c[1] + radius * (0.8 if horizontal else 0.0), radius))
        else:
            joints.append(draw_valve(img, c, radius, colour, rng))
    return joints
