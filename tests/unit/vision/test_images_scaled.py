"""Reduced-size decoding: a 24-megapixel photo reaches the detector at the analysis size, never in full."""

from __future__ import annotations

import io
import tracemalloc

import cv2
import numpy as np
import pytest
from PIL import Image

from vision.images import ImageError, decode_image, decode_scaled


def _gradient_jpeg(width: int, height: int, *, orientation: int = 1) -> bytes:
    xs = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    ys = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    rgb = np.stack([np.broadcast_to(xs, (height, width)), np.broadcast_to(ys, (height, width)),
                    np.full((height, width), 90, np.float32)], axis=-1).astype(np.uint8)  # fmt: skip
    exif = Image.Exif()
    if orientation != 1:
        exif[0x0112] = orientation
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


@pytest.fixture(scope="module")
def big_jpeg() -> bytes:
    return _gradient_jpeg(6000, 4000)  # 24 Mpx: a phone's main camera


def test_a_large_jpeg_is_decoded_to_the_analysis_size_with_the_original_size_kept(big_jpeg: bytes) -> None:
    scaled = decode_scaled(big_jpeg, source="phone.jpg", max_pixels=50_000_000, max_side=2048)
    # 6000 / 2 = 3000 >= 2048 (1/4 would give 1500): DCT-decoded at half size, then area-resized.
    assert scaled.image.shape == (1365, 2048, 3)  # 4000 * 2048 / 6000 = 1365.3
    assert (scaled.original_width, scaled.original_height) == (6000, 4000)
    assert scaled.scale_x == pytest.approx(6000 / 2048)
    assert scaled.scale_y == pytest.approx(4000 / 1365)


def test_the_reduced_decode_looks_like_the_full_decode_resized(big_jpeg: bytes) -> None:
    scaled = decode_scaled(big_jpeg, source="phone.jpg", max_pixels=50_000_000, max_side=1500)
    full = decode_image(big_jpeg, source="phone.jpg", max_pixels=50_000_000)
    resized = cv2.resize(full, (1500, 1000), interpolation=cv2.INTER_AREA)
    assert scaled.image.shape == (1000, 1500, 3)  # exactly 1/4: no resize after the DCT scaling
    assert float(np.abs(scaled.image.astype(np.int16) - resized.astype(np.int16)).mean()) < 2.0


def test_decoding_never_holds_the_full_size_pixels(big_jpeg: bytes) -> None:
    tracemalloc.start()
    try:
        decode_scaled(big_jpeg, source="phone.jpg", max_pixels=50_000_000, max_side=2048)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    full_size = 6000 * 4000 * 3  # 72 MB: what a full decode allocates for its pixels alone
    assert peak < 30_000_000 < full_size  # half-size decode 18 MB + the 8.4 MB resized image


def test_a_small_image_is_returned_as_is() -> None:
    data = _gradient_jpeg(640, 480)
    scaled = decode_scaled(data, source="cam.jpg", max_pixels=10**7, max_side=4096)
    assert scaled.image.shape == (480, 640, 3)
    assert (scaled.scale_x, scaled.scale_y) == (1.0, 1.0)
    assert np.array_equal(scaled.image, decode_image(data, source="cam.jpg", max_pixels=10**7))


def test_a_rotated_jpeg_is_reduced_and_turned_upright() -> None:
    data = _gradient_jpeg(800, 400, orientation=6)  # stored landscape, shown portrait (rotate 90° cw)
    scaled = decode_scaled(data, source="portrait.jpg", max_pixels=10**7, max_side=200)
    assert (scaled.original_width, scaled.original_height) == (400, 800)
    assert scaled.image.shape == (200, 100, 3)
    # Red (the stored x gradient) grows downwards once turned clockwise: top dark, bottom bright.
    assert int(scaled.image[5, 50, 2]) < 40 and int(scaled.image[195, 50, 2]) > 215


def test_a_png_is_resized_after_decoding() -> None:
    out = io.BytesIO()
    Image.new("RGB", (3000, 1000), (10, 200, 30)).save(out, "PNG")
    scaled = decode_scaled(out.getvalue(), source="screen.png", max_pixels=10**7, max_side=1200)
    assert scaled.image.shape == (400, 1200, 3)
    assert tuple(int(v) for v in scaled.image[200, 600]) == (30, 200, 10)  # BGR


def test_the_pixel_limit_is_on_the_original_not_the_reduced_size(big_jpeg: bytes) -> None:
    with pytest.raises(ImageError, match="6000x4000 = 24000000 pixels, above the limit of 20000000"):
        decode_scaled(big_jpeg, source="phone.jpg", max_pixels=20_000_000, max_side=1024)


def test_a_corrupt_jpeg_is_refused_at_reduced_size_too(big_jpeg: bytes) -> None:
    half = big_jpeg[: len(big_jpeg) // 2]
    with pytest.raises(ImageError, match=r"broken\.jpg: corrupt or truncated"):
        decode_scaled(half, source="broken.jpg", max_pixels=50_000_000, max_side=1024)
    with pytest.raises(ValueError, match="max_side must be at least 1"):
        decode_scaled(big_jpeg, source="x.jpg", max_pixels=50_000_000, max_side=0)
