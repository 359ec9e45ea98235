"""Hazard-region check: did the content inside the before box change, relative to its unchanged surroundings?

The after photo is warped into the before photo's frame around the box. The surroundings (a ring around
the box) are assumed unchanged by the rectification, so they calibrate both the photometric mapping
(gain/offset fitted on the ring) and how similar "unchanged" looks for this pair (blur, noise, JPEG and
residual misregistration lower the ring's similarity just as much as the box's). The change measure is the
box similarity relative to the ring similarity, so a dark or blurry re-take does not read as "changed".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from vision.detections import Box, Detections

Detector = Callable[[npt.NDArray[np.uint8]], Detections]
Matrix = npt.NDArray[np.float64]

CANVAS_SIDE = 256  # the box + ring is compared at this size: enough detail, constant cost


@dataclass(frozen=True, slots=True)
class RegionCheck:
    """Numbers behind the hazard-region decision; the polygon is the before box in after-photo pixels."""

    warped_polygon: tuple[tuple[float, float], ...]
    visible_fraction: float  # share of the box that the after photo actually shows
    box_similarity: float  # zero-mean NCC, before vs normalised after, inside the box
    ring_similarity: float  # the same on the surroundings
    change: float  # 1 - box/ring similarity, clipped to [0, 1]
    diff_ratio: float  # mean |difference| in box / in ring
    hazard_confidence_after: (
        float | None
    )  # best hazard detection overlapping the warped box (None: no detector)
    hazard_confidence_before: float | None


def warp_box(box: Box, homography: Matrix) -> tuple[tuple[float, float], ...]:
    x1, y1, x2, y2 = box
    corners = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float64).reshape(-1, 1, 2)
    warped = cv2.perspectiveTransform(corners, homography).reshape(-1, 2)
    return tuple((float(x), float(y)) for x, y in warped)


def check_region(
    before: npt.NDArray[np.uint8],
    after: npt.NDArray[np.uint8],
    box: Box,
    homography: Matrix,
    detector: Detector | None = None,
    hazard_classes: frozenset[str] = frozenset(),
) -> RegionCheck:
    x1, y1, x2, y2 = box
    bw, bh = x2 - x1, y2 - y1
    height, width = before.shape[:2]
    # Ring = the box grown by half its size (at least 16 px) on each side, clipped to the photo.
    pad_x, pad_y = max(0.5 * bw, 16.0), max(0.5 * bh, 16.0)
    rx1, ry1 = max(0.0, x1 - pad_x), max(0.0, y1 - pad_y)
    rx2, ry2 = min(float(width), x2 + pad_x), min(float(height), y2 + pad_y)
    scale = CANVAS_SIDE / max(rx2 - rx1, ry2 - ry1)
    out_w, out_h = max(8, round((rx2 - rx1) * scale)), max(8, round((ry2 - ry1) * scale))
    # canvas -> before pixels; after pixels are then H . (canvas -> before).
    to_before = np.array([[1 / scale, 0, rx1], [0, 1 / scale, ry1], [0, 0, 1]], np.float64)
    flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    before_c = cv2.warpAffine(
        _gray(before), to_before[:2], (out_w, out_h), flags=flags | cv2.WARP_INVERSE_MAP
    )
    to_after = homography @ to_before
    after_c = cv2.warpPerspective(
        _gray(after), to_after, (out_w, out_h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    )
    valid = (
        cv2.warpPerspective(
            np.full(after.shape[:2], 255, np.uint8),
            to_after,
            (out_w, out_h),
            flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
        )
        > 0
    )
    inside = np.zeros((out_h, out_w), bool)
    bx1, by1 = round((x1 - rx1) * scale), round((y1 - ry1) * scale)
    bx2, by2 = round((x2 - rx1) * scale), round((y2 - ry1) * scale)
    inside[by1:by2, bx1:bx2] = True
    box_mask, ring_mask = inside & valid, ~inside & valid
    visible = float(box_mask.sum()) / max(1.0, float(inside.sum()))

    after_c = _match_photometry(
        np.asarray(after_c, np.uint8),
        np.asarray(before_c, np.uint8),
        ring_mask if ring_mask.sum() >= 64 else valid,
    )
    # Light blur: JPEG blocks and sensor noise should not count as change.
    b = np.asarray(cv2.GaussianBlur(before_c.astype(np.float32), (0, 0), 1.2), np.float32)
    a = np.asarray(cv2.GaussianBlur(after_c.astype(np.float32), (0, 0), 1.2), np.float32)
    box_sim = _zncc(b, a, box_mask)
    ring_sim = _zncc(b, a, ring_mask)
    diff = np.abs(a - b)
    box_diff = float(diff[box_mask].mean()) if box_mask.any() else 0.0
    ring_diff = float(diff[ring_mask].mean()) if ring_mask.any() else 0.0
    change = float(np.clip(1.0 - box_sim / max(ring_sim, 1e-3), 0.0, 1.0)) if ring_sim > 0 else 0.0

    polygon = warp_box(box, homography)
    conf_after = conf_before = None
    if detector is not None:
        conf_after = _hazard_confidence(detector(after), polygon_box(polygon), hazard_classes)
        conf_before = _hazard_confidence(detector(before), box, hazard_classes)
    return RegionCheck(
        warped_polygon=polygon,
        visible_fraction=visible,
        box_similarity=box_sim,
        ring_similarity=ring_sim,
        change=change,
        diff_ratio=box_diff / max(ring_diff, 1.0),
        hazard_confidence_after=conf_after,
        hazard_confidence_before=conf_before,
    )


def polygon_box(polygon: tuple[tuple[float, float], ...]) -> Box:
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    return (min(xs), min(ys), max(xs), max(ys))


def _gray(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    gray = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image, np.uint8)
    return gray


def _match_photometry(
    after: npt.NDArray[np.uint8], before: npt.NDArray[np.uint8], mask: npt.NDArray[np.bool_]
) -> npt.NDArray[np.uint8]:
    """Monotonic tone mapping after -> before (histogram matching), fitted where the scene is unchanged.

    A tone curve, not a gain/offset: gamma, night exposure and flash fall-off are non-linear, and a
    linear fit on the surroundings would leave a residual in the box that reads as "changed".
    """
    if mask.sum() < 16:
        return after
    cdf_a = np.cumsum(np.bincount(after[mask], minlength=256)).astype(np.float64)
    cdf_b = np.cumsum(np.bincount(before[mask], minlength=256)).astype(np.float64)
    cdf_a, cdf_b = cdf_a / cdf_a[-1], cdf_b / cdf_b[-1]
    lut = np.clip(np.rint(np.interp(cdf_a, cdf_b, np.arange(256))), 0, 255).astype(np.uint8)
    mapped: npt.NDArray[np.uint8] = lut[after]
    return mapped


def _zncc(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32], mask: npt.NDArray[np.bool_]) -> float:
    if mask.sum() < 16:
        return 0.0
    x, y = a[mask] - a[mask].mean(), b[mask] - b[mask].mean()
    denominator = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / denominator) if denominator > 1e-6 else 0.0


def _hazard_confidence(detections: Detections, region: Box, hazard_classes: frozenset[str]) -> float:
    """Best confidence of a hazard-class detection whose box lies mostly inside ``region``."""
    best = 0.0
    rx1, ry1, rx2, ry2 = region
    for i in range(len(detections)):
        if detections.label(i) not in hazard_classes:
            continue
        x1, y1, x2, y2 = detections.box(i)
        iw, ih = max(0.0, min(x2, rx2) - max(x1, rx1)), max(0.0, min(y2, ry2) - max(y1, ry1))
        area = max(1e-6, (x2 - x1) * (y2 - y1))
        if iw * ih / area >= 0.3:
            best = max(best, float(detections.confidences[i]))
    return best
