"""Make a training photo look like a plant camera frame: motion blur, low light, sensor noise, JPEG blocks.

Hard Hat Workers and Construction Site Safety are sharp, well-lit hand-held photos; CCTV frames are
blurred by motion, dark at night, noisy and heavily compressed. Ultralytics' own augmentation covers
geometry, scale and colour, not these, so a fixed share of the training images is degraded once when the
campaign dataset is built (boxes are unchanged: none of these moves a pixel's position).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

BgrImage = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class CameraLook:
    """One drawn degradation; every field is explicit so a test can pin what each one does."""

    blur_px: int  # motion blur kernel length in pixels (0 = none); odd lengths ≥ 3 blur
    blur_angle_deg: float
    gain: float  # brightness multiplier (< 1 = low light)
    noise_sigma: float  # Gaussian sensor noise, grey levels
    jpeg_quality: int  # 100 = no re-encode


def draw_look(rng: np.random.Generator) -> CameraLook:
    """A random camera look: each effect is present about half the time, in CCTV-typical strength."""
    return CameraLook(
        blur_px=int(rng.choice([0, 0, 5, 7, 9, 11])),
        blur_angle_deg=float(rng.uniform(0, 180)),
        gain=float(rng.choice([1.0, 1.0, rng.uniform(0.3, 0.7)])),
        noise_sigma=float(rng.choice([0.0, rng.uniform(3, 10)])),
        jpeg_quality=int(rng.choice([100, int(rng.integers(15, 45))])),
    )


def motion_kernel(length: int, angle_deg: float) -> npt.NDArray[np.float32]:
    """A normalised line kernel of ``length`` pixels at ``angle_deg`` (0 = horizontal)."""
    k = np.zeros((length, length), np.float32)
    c = (length - 1) / 2
    dx, dy = np.cos(np.deg2rad(angle_deg)) * c, np.sin(np.deg2rad(angle_deg)) * c
    cv2.line(k, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1)
    return np.asarray(k / k.sum(), np.float32)


def apply_look(image: BgrImage, look: CameraLook, rng: np.random.Generator) -> BgrImage:
    kernel = motion_kernel(look.blur_px, look.blur_angle_deg) if look.blur_px >= 3 else None
    blurred = cv2.filter2D(image, -1, kernel) if kernel is not None else image
    work = np.asarray(blurred, np.float32)
    if look.gain != 1.0:
        work *= look.gain
    if look.noise_sigma > 0:
        work += rng.normal(0.0, look.noise_sigma, work.shape).astype(np.float32)
    out: BgrImage = np.clip(work, 0, 255).astype(np.uint8)
    if look.jpeg_quality < 100:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, look.jpeg_quality])
        decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
        if decoded is None:
            raise ValueError("JPEG re-encode failed")
        out = np.asarray(decoded, np.uint8)
    return out
