"""Evidence image for a verification: before | after side by side, inlier matches, boxes, verdict."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from vision.detections import Box
from vision.matching import Verdict, Verification

PANEL_HEIGHT = 540
MAX_LINES = 60  # more match lines only hide the photos
CAPTION_HEAD, CAPTION_ROW, CAPTION_REASONS = 36, 22, 3  # caption band: verdict line, then reason lines
COLOURS = {
    Verdict.RESOLVED: (60, 180, 60),
    Verdict.NOT_RESOLVED: (40, 40, 220),
    Verdict.DIFFERENT_SCENE: (200, 80, 200),
    Verdict.NEEDS_REINSPECTION: (0, 170, 255),
}


def render(
    before: npt.NDArray[np.uint8], after: npt.NDArray[np.uint8], box: Box, result: Verification
) -> npt.NDArray[np.uint8]:
    left, s_b = _panel(before)
    right, s_a = _panel(after)
    offset = left.shape[1]
    canvas = np.concatenate([left, right], axis=1)
    colour = COLOURS[result.verdict]
    x1, y1, x2, y2 = (round(v * s_b) for v in box)
    cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, 2)
    reg = result.registration
    if reg is not None and len(reg.inlier_points_before):
        step = max(1, len(reg.inlier_points_before) // MAX_LINES)
        for pb, pa in zip(reg.inlier_points_before[::step], reg.inlier_points_after[::step], strict=True):
            start = (round(float(pb[0]) * s_b), round(float(pb[1]) * s_b))
            end = (round(float(pa[0]) * s_a) + offset, round(float(pa[1]) * s_a))
            cv2.line(canvas, start, end, (255, 200, 0), 1, cv2.LINE_AA)
    if result.region is not None:
        polygon = np.array([[x * s_a + offset, y * s_a] for x, y in result.region.warped_polygon], np.int32)
        cv2.polylines(canvas, [polygon], True, colour, 2, cv2.LINE_AA)
    return _with_caption(canvas, result, colour)


def _with_caption(
    canvas: npt.NDArray[np.uint8], result: Verification, colour: tuple[int, int, int]
) -> npt.NDArray[np.uint8]:
    """The verdict and its reasons on a band below the photos: over the photos, the match lines ran
    through the text and the outlined label read as two overlapping words."""
    reasons = result.reasons[:CAPTION_REASONS]
    band = np.zeros((CAPTION_HEAD + CAPTION_ROW * len(reasons), canvas.shape[1], 3), np.uint8)
    _label(band, result.verdict.value, (10, 27), colour, 0.8)
    for row, reason in enumerate(reasons):
        _label(band, reason[:110], (10, CAPTION_HEAD + 16 + CAPTION_ROW * row), (235, 235, 235), 0.5)
    return np.concatenate([canvas, band], axis=0)


def _panel(image: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], float]:
    bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
    scale = PANEL_HEIGHT / bgr.shape[0]
    resized = np.asarray(cv2.resize(bgr, (max(1, round(bgr.shape[1] * scale)), PANEL_HEIGHT)), np.uint8)
    return resized, scale


def _label(
    canvas: npt.NDArray[np.uint8],
    text: str,
    origin: tuple[int, int],
    colour: tuple[int, int, int],
    size: float,
) -> None:
    # Hershey fonts are built into OpenCV: nothing to download or ship. The band is black: no outline.
    cv2.putText(canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, size, colour, 1, cv2.LINE_AA)
