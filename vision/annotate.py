"""Draw detections and findings onto an image.

Boxes are drawn with OpenCV. Labels are ASCII by default (OpenCV's built-in Hershey font); a ``label``
function may turn class names and finding kinds into words, Chinese included: such text is drawn with the
font shipped in ``vision/fonts`` (a subset of WenQuanYi Micro Hei), never one fetched at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from vision.detections import Detections, Finding

_PALETTE = ((56, 56, 255), (255, 157, 151), (31, 112, 255), (29, 178, 255), (49, 210, 207), (10, 249, 72))
FINDING_COLOUR = (0, 0, 255)
LABEL_FONT = Path(__file__).resolve().parent / "fonts" / "label-cjk.ttf"

Label = Callable[[str], str]
_Text = tuple[tuple[int, int], str, tuple[int, int, int], int]  # where, what, background (BGR), size


def annotate(
    image: npt.NDArray[np.uint8],
    detections: Detections,
    findings: list[Finding] | None = None,
    label: Label | None = None,
) -> npt.NDArray[np.uint8]:
    """A copy of ``image`` with labelled boxes; findings get a thick red outline. ``label`` words each
    class name and finding kind (default: the name itself)."""
    name = label or (lambda text: text)
    canvas = image.copy()
    thickness = max(1, round(min(canvas.shape[:2]) / 300))
    texts: list[_Text] = []
    for i in range(len(detections)):
        colour = _PALETTE[int(detections.class_ids[i]) % len(_PALETTE)]
        text = f"{name(detections.label(i))} {detections.confidences[i]:.2f}"
        texts.append(_box(canvas, detections.box(i), colour, thickness, text))
    for finding in findings or []:
        texts.append(_box(canvas, finding.box, FINDING_COLOUR, thickness * 2, name(finding.kind)))
    if all(text.isascii() for _, text, _, _ in texts):
        for where, text, colour, size in texts:
            _hershey(canvas, where, text, colour, size)
        return canvas
    return _with_font(canvas, texts)


def _box(
    canvas: npt.NDArray[np.uint8],
    box: tuple[float, float, float, float],
    colour: tuple[int, int, int],
    thickness: int,
    text: str,
) -> _Text:
    x1, y1, x2, y2 = (round(v) for v in box)
    cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, thickness, cv2.LINE_AA)
    return (x1, y1), text, colour, thickness


def _hershey(canvas: npt.NDArray[np.uint8], where: tuple[int, int], text: str, colour: tuple[int, int, int],
             thickness: int) -> None:  # fmt: skip
    x1, y1 = where
    scale = thickness * 0.4
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    top = max(y1 - h - base, 0)
    cv2.rectangle(canvas, (x1, top), (x1 + w, top + h + base), colour, -1)
    cv2.putText(canvas, text, (x1, top + h), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


def _with_font(canvas: npt.NDArray[np.uint8], texts: list[_Text]) -> npt.NDArray[np.uint8]:
    picture = Image.fromarray(np.ascontiguousarray(canvas[:, :, ::-1]))
    draw = ImageDraw.Draw(picture)
    for (x1, y1), text, (b, g, r), thickness in texts:
        font = _font(max(10, thickness * 11))
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        height = bottom - top + 4
        y = max(y1 - height, 0)
        draw.rectangle((x1, y, x1 + right - left + 4, y + height), fill=(r, g, b))
        draw.text((x1 + 2 - left, y + 2 - top), text, font=font, fill=(255, 255, 255))
    return np.ascontiguousarray(np.asarray(picture)[:, :, ::-1], dtype=np.uint8)


def text_plate(image: npt.NDArray[np.uint8], text: str, size: int = 16) -> npt.NDArray[np.uint8]:
    """A copy of ``image`` with ``text`` in white on a dark plate at its top left (the shipped font, so
    Chinese too)."""
    picture = Image.fromarray(np.ascontiguousarray(image[:, :, ::-1]))
    draw = ImageDraw.Draw(picture)
    font = _font(size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.rectangle((0, 0, right - left + 10, bottom - top + 8), fill=(32, 32, 32))
    draw.text((5 - left, 4 - top), text, font=font, fill=(255, 255, 255))
    return np.ascontiguousarray(np.asarray(picture)[:, :, ::-1], dtype=np.uint8)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(LABEL_FONT), size)
