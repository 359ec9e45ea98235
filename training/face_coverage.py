"""How much of each labelled head the face blurring covers: the measure of what it misses.

A labelled head (``head`` or ``helmet`` box) counts as hidden when at least ``HIDDEN_AT`` of its area lies
inside the blurred regions; the rest of the blur is over-blurring (area blurred away from any head).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Box = tuple[float, float, float, float]
HIDDEN_AT = 0.7


def _mask(regions: Sequence[Box], width: int, height: int) -> np.ndarray:
    mask = np.zeros((height, width), bool)
    for x1, y1, x2, y2 in regions:
        left, top = max(0, int(np.floor(x1))), max(0, int(np.floor(y1)))
        right, bottom = min(width, int(np.ceil(x2))), min(height, int(np.ceil(y2)))
        mask[top:bottom, left:right] = True
    return mask


def coverage(heads: Sequence[Box], regions: Sequence[Box], width: int, height: int) -> list[float]:
    """The fraction of each head box's pixels inside the union of ``regions`` (1.0 for an empty box)."""
    blurred = _mask(regions, width, height)
    out: list[float] = []
    for head in heads:
        own = _mask([head], width, height)
        area = int(own.sum())
        out.append(1.0 if area == 0 else float((own & blurred).sum()) / area)
    return out


@dataclass(frozen=True, slots=True)
class ImageCoverage:
    covered: tuple[float, ...]  # per labelled head
    heights: tuple[float, ...]  # the heads' box heights in pixels
    over_blur: float  # share of the image blurred outside every labelled head


def image_coverage(heads: Sequence[Box], regions: Sequence[Box], width: int, height: int) -> ImageCoverage:
    blurred = _mask(regions, width, height)
    outside = blurred & ~_mask(heads, width, height)
    return ImageCoverage(
        tuple(coverage(heads, regions, width, height)),
        tuple(float(b[3] - b[1]) for b in heads),
        float(outside.sum()) / float(width * height),
    )
