"""Letterbox resize (keep aspect, pad to the model's input) and the exact inverse for boxes.

Two layouts:
- square: every image is padded to the model's full ``input_size`` (fixed-shape models need this);
- rect: for models with dynamic height/width, the image is padded only up to the next multiple of the
  model's stride (a 500x333 photo at 320 becomes 320x224, not 320x320: 30 % less compute). A batch of
  different aspect ratios is padded, bottom/right, to the batch's largest rect, still stride aligned, so
  every image keeps the placement it would have alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

PAD_VALUE = 114  # ultralytics' grey: the exported models were trained with this padding
_PAD_BGR = (PAD_VALUE, PAD_VALUE, PAD_VALUE)


@dataclass(frozen=True, slots=True)
class LetterboxTransform:
    """How an image of ``source_size`` (h, w) was placed into the model input."""

    scale: float
    pad_x: int
    pad_y: int
    source_size: tuple[int, int]

    def to_source(self, boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Map xyxy boxes from model-input pixels back to source pixels, clipped to the image."""
        height, width = self.source_size
        offset = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], dtype=np.float32)
        # Equivalent mutants (pragmas below): the clip writes into float32 ``mapped`` whatever the
        # bound's dtype, and clipping in place or into a new array gives the same values.
        upper = np.array([width, height, width, height], dtype=np.float32)  # pragma: no mutate
        mapped = (np.asarray(boxes, dtype=np.float32) - offset) / np.float32(self.scale)
        return np.clip(mapped, np.float32(0), upper, out=mapped)  # pragma: no mutate

    def to_input(self, boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Map xyxy boxes from source pixels into model-input pixels (the forward transform)."""
        offset = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], dtype=np.float32)
        return np.asarray(boxes, dtype=np.float32) * np.float32(self.scale) + offset


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an image goes before padding: its resized (h, w) and its own canvas (h, w)."""

    scale: float
    resized: tuple[int, int]
    canvas: tuple[int, int]


def plan(source_size: tuple[int, int], input_size: tuple[int, int], stride: int | None = None) -> Placement:
    """Scale to fit ``input_size`` (h, w); the canvas is ``input_size`` (square layout, ``stride`` None)
    or the smallest stride multiple holding the resized image (rect layout), never above ``input_size``."""
    height, width = source_size
    if height <= 0 or width <= 0:
        raise ValueError(f"cannot letterbox an empty image of shape {source_size}")
    target_h, target_w = input_size
    scale = min(target_h / height, target_w / width)
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    if stride is None:
        return Placement(scale, (new_h, new_w), (target_h, target_w))
    canvas = (min(target_h, _round_up(new_h, stride)), min(target_w, _round_up(new_w, stride)))
    return Placement(scale, (new_h, new_w), canvas)


def _round_up(value: int, stride: int) -> int:
    return -(-value // stride) * stride


def letterbox(
    image: npt.NDArray[np.uint8],
    input_size: tuple[int, int],
    *,
    stride: int | None = None,
    canvas_size: tuple[int, int] | None = None,
) -> tuple[npt.NDArray[np.uint8], LetterboxTransform]:
    """Resize ``image`` (H, W, 3) to fit ``input_size`` (h, w) keeping aspect, on grey padding.

    Square layout by default (output is ``input_size``). With ``stride`` the output is the minimal
    stride-aligned rect; ``canvas_size`` (at least that rect) pads further, bottom/right only, which is how
    a batch shares one shape without moving any image relative to the stride grid.
    """
    if image.ndim < 2 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"cannot letterbox an empty image of shape {image.shape}")
    height, width = image.shape[:2]
    placement = plan((height, width), input_size, stride)
    own_h, own_w = placement.canvas
    out_h, out_w = canvas_size or placement.canvas
    if out_h < own_h or out_w < own_w:
        raise ValueError(f"canvas {canvas_size} is smaller than the image's own {placement.canvas}")
    new_h, new_w = placement.resized
    # Equivalent mutants: resizing to the same size copies the pixels unchanged, and INTER_LINEAR is
    # cv2's default interpolation; the skip only saves the copy.
    resized = (
        image
        if (new_h, new_w) == (height, width)  # pragma: no mutate
        else cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)  # pragma: no mutate
    )
    pad_x, pad_y = (own_w - new_w) // 2, (own_h - new_h) // 2
    canvas = cv2.copyMakeBorder(
        resized,
        pad_y,
        out_h - new_h - pad_y,
        pad_x,
        out_w - new_w - pad_x,
        cv2.BORDER_CONSTANT,  # pragma: no mutate (0, also what None means to cv2)
        value=_PAD_BGR,
    )
    transform = LetterboxTransform(
        scale=placement.scale, pad_x=pad_x, pad_y=pad_y, source_size=(height, width)
    )
    return np.asarray(canvas, dtype=np.uint8), transform  # pragma: no mutate (typing: cv2 returns uint8)


def letterbox_batch(
    images: Sequence[npt.NDArray[np.uint8]], input_size: tuple[int, int], *, stride: int | None = None
) -> tuple[list[npt.NDArray[np.uint8]], list[LetterboxTransform]]:
    """Letterbox images to one shared shape: ``input_size`` (square) or the batch's largest rect."""
    canvas_size: tuple[int, int] | None = None  # pragma: no mutate (any falsy value means the own canvas)
    if stride is not None:
        canvases = [plan(image.shape[:2], input_size, stride).canvas for image in images]
        canvas_size = (max(h for h, _ in canvases), max(w for _, w in canvases))
    boxed = [letterbox(image, input_size, stride=stride, canvas_size=canvas_size) for image in images]
    return [canvas for canvas, _ in boxed], [transform for _, transform in boxed]


def to_input_tensor(letterboxed: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
    """Stack letterboxed BGR images into the NCHW float32 RGB [0, 1] tensor YOLO exports expect.

    One pass per image and channel straight into the output: no stacked uint8 copy, no float temporary.
    """
    first = letterboxed[0]
    height, width = first.shape[:2]
    tensor = np.empty((len(letterboxed), 3, height, width), dtype=np.float32)
    scale = np.float32(1.0 / 255.0)
    for index, image in enumerate(letterboxed):
        if image.shape[:2] != (height, width):
            raise ValueError(f"batch images differ in shape: {image.shape[:2]} vs {(height, width)}")
        for channel in range(3):  # BGR -> RGB by reading channel 2 - c
            # pragma below: uint8 × float32 scalar is computed in float32 anyway; dtype= states it.
            plane = tensor[index, channel]
            np.multiply(image[:, :, 2 - channel], scale, out=plane, dtype=np.float32)  # pragma: no mutate
    return tensor
