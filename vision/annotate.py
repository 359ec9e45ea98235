"""Draw detections and findings onto an image (OpenCV's built-in Hershey font: nothing to download)."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from vision.detections import Detections, Finding

_PALETTE = ((56, 56, 255), (255, 157, 151), (31, 112, 255), (29, 178, 255), (49, 210, 207), (10, 249, 72))
FINDING_COLOUR = (0, 0, 255)


def annotate(
    image: npt.NDArray[np.uint8], detections: Detections, findings: list[Finding] | None = None
) -> npt.NDArray[np.uint8]:
    """A copy of ``image`` with labelled boxes; findings get a thick red outline."""
    canvas = image.copy()
    thickness = max(1, round(min(canvas.shape[:2]) / 300))
    for i in range(len(detections)):
        colour = _PALETTE[int(detections.class_ids[i]) % len(_PALETTE)]
        _box(
            canvas,
            detections.box(i),
            colour,
            thickness,
            f"{detections.label(i)} {detections.confidences[i]:.2f}",
        )
    for finding in findings or []:
        _box(canvas, finding.box, FINDING_COLOUR, thickness * 2, finding.kind)
    return canvas


def _box(
    canvas: npt.NDArray[np.uint8],
    box: tuple[float, float, float, float],
    colour: tuple[int, int, int],
    thickness: int,
    text: str,
) -> None:
    x1, y1, x2, y2 = (round(v) for v in box)
    cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, thickness, cv2.LINE_AA)
    scale = thickness * 0.4
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    top = max(y1 - h - base, 0)
    cv2.rectangle(canvas, (x1, top), (x1 + w, top + h + base), colour, -1)
    cv2.putText(canvas, text, (x1, top + h), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
