"""Face blurring for the images people look at: the PPE model's head boxes are the face detector.

Every head or helmet box the PPE model finds holds a face (or the back of a head), so no second model is
needed: the region blurred is the head box grown a little (the model boxes a helmet tighter than the
face under it, and a chin hangs below a head box), and for a person seen without a head box, the top of
the body box. Blurring is a mosaic of a few coarse cells followed by a blur, so no face can be read back
from it; what the detector misses stays visible (``bench/bench_face_blur.py`` measures how often).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from vision.detections import Box, Detections
from vision.ppe import workers

Image = npt.NDArray[np.uint8]

# Growth of a head box, as fractions of its width / height: sideways (ears, hair), up (helmet brim),
# down (chin and neck; a helmet box often ends at the brow).
_SIDE, _UP, _DOWN = 0.15, 0.10, 0.45
_PERSON_HEAD = 0.22  # the top fifth of a body box is where its head is
_CELLS = 6  # mosaic cells across the longer side of a region: shapes survive, identities do not


def face_regions(detections: Detections, width: int, height: int) -> list[Box]:
    """The regions of an image to blur, from the PPE model's detections (clipped to the image)."""
    regions: list[Box] = []
    for worker in workers(detections):
        if worker.head_box is not None:
            x1, y1, x2, y2 = worker.head_box
            w, h = x2 - x1, y2 - y1
            regions.append((x1 - _SIDE * w, y1 - _UP * h, x2 + _SIDE * w, y2 + _DOWN * h))
        elif worker.person_box is not None:
            x1, y1, x2, y2 = worker.person_box
            regions.append((x1, y1, x2, y1 + _PERSON_HEAD * (y2 - y1)))
    return [clipped for box in regions if (clipped := _clip(box, width, height)) is not None]


def blur_regions(image: Image, regions: Sequence[Box]) -> Image:
    """A copy of ``image`` with each region pixelated beyond recognition (the input is not changed)."""
    out = image.copy()
    height, width = image.shape[:2]
    for box in regions:
        clipped = _clip(box, width, height)
        if clipped is None:
            continue
        left, top, right, bottom = (round(v) for v in clipped)
        if right - left < 1 or bottom - top < 1:
            continue
        patch = out[top:bottom, left:right]
        ph, pw = patch.shape[:2]
        cell = max(1, max(ph, pw) // _CELLS)
        small = cv2.resize(patch, (max(1, pw // cell), max(1, ph // cell)), interpolation=cv2.INTER_AREA)
        mosaic = cv2.resize(small, (pw, ph), interpolation=cv2.INTER_NEAREST)
        kernel = max(3, (cell // 2) * 2 + 1)
        out[top:bottom, left:right] = cv2.GaussianBlur(mosaic, (kernel, kernel), 0)
    return out


def _clip(box: Box, width: int, height: int) -> Box | None:
    x1, y1, x2, y2 = max(0.0, box[0]), max(0.0, box[1]), min(float(width), box[2]), min(float(height), box[3])
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None
