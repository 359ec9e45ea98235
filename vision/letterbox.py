"""Letterbox resize (keep aspect, pad to the model's input) and the exact inverse for boxes."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

PAD_VALUE = 114  # ultralytics' grey: the exported models were trained with this padding


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
        mapped = boxes.astype(np.float32, copy=True)
        mapped[:, [0, 2]] = (mapped[:, [0, 2]] - self.pad_x) / self.scale
        mapped[:, [1, 3]] = (mapped[:, [1, 3]] - self.pad_y) / self.scale
        mapped[:, [0, 2]] = np.clip(mapped[:, [0, 2]], 0, width)
        mapped[:, [1, 3]] = np.clip(mapped[:, [1, 3]], 0, height)
        return mapped

    def to_input(self, boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Map xyxy boxes from source pixels into model-input pixels (the forward transform)."""
        mapped = boxes.astype(np.float32, copy=True)
        mapped[:, [0, 2]] = mapped[:, [0, 2]] * self.scale + self.pad_x
        mapped[:, [1, 3]] = mapped[:, [1, 3]] * self.scale + self.pad_y
        return mapped


def letterbox(
    image: npt.NDArray[np.uint8], input_size: tuple[int, int]
) -> tuple[npt.NDArray[np.uint8], LetterboxTransform]:
    """Resize ``image`` (H, W, 3) to fit ``input_size`` (h, w) keeping aspect, centred on grey padding."""
    target_h, target_w = input_size
    height, width = image.shape[:2]
    if height == 0 or width == 0:
        raise ValueError(f"cannot letterbox an empty image of shape {image.shape}")
    scale = min(target_h / height, target_w / width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized = (
        image
        if (new_w, new_h) == (width, height)
        else cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    )
    pad_x, pad_y = (target_w - new_w) // 2, (target_h - new_h) // 2
    canvas = cv2.copyMakeBorder(
        resized,
        pad_y,
        target_h - new_h - pad_y,
        pad_x,
        target_w - new_w - pad_x,
        cv2.BORDER_CONSTANT,
        value=(PAD_VALUE, PAD_VALUE, PAD_VALUE),
    )
    return np.asarray(canvas, dtype=np.uint8), LetterboxTransform(
        scale=scale, pad_x=pad_x, pad_y=pad_y, source_size=(height, width)
    )


def to_input_tensor(letterboxed: list[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
    """Stack letterboxed BGR images into the NCHW float32 RGB [0, 1] tensor YOLO exports expect."""
    batch = np.stack(letterboxed)[..., ::-1]  # BGR -> RGB
    tensor = np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32)
    tensor *= np.float32(1.0 / 255.0)
    return tensor
