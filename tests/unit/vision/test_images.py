"""Every bad or unusual input an inspector's phone or a script can send us."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vision.images import ImageError, decode_image, read_image

LIMIT = 50_000_000


def _encode(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge size: a decompression bomb must be refused before decoding."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def test_colour_jpeg_decodes_to_bgr() -> None:
    rgb = Image.new("RGB", (40, 30), (255, 0, 0))
    image = decode_image(_encode(rgb, "JPEG", quality=95), source="red.jpg", max_pixels=LIMIT)
    assert image.shape == (30, 40, 3) and image.dtype == np.uint8
    assert image[15, 20, 2] > 240 and image[15, 20, 0] < 15  # red lands in the R channel of BGR


def test_zero_bytes_are_refused_with_the_source_named() -> None:
    with pytest.raises(ImageError, match=r"^upload\.jpg: empty"):
        decode_image(b"", source="upload.jpg", max_pixels=LIMIT)


def test_zero_byte_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match="empty file"):
        read_image(path, max_pixels=LIMIT)


def test_non_image_is_refused() -> None:
    with pytest.raises(ImageError, match="not a recognised image format"):
        decode_image(b"%PDF-1.7 this is a document", source="doc.pdf", max_pixels=LIMIT)


def test_truncated_jpeg_is_refused() -> None:
    noisy = Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8))
    data = _encode(noisy, "JPEG", quality=90)
    with pytest.raises(ImageError, match="corrupt or truncated"):
        decode_image(data[: len(data) // 2], source="cut.jpg", max_pixels=LIMIT)


def test_corrupt_png_is_refused() -> None:
    data = bytearray(_encode(Image.new("RGB", (64, 64), (1, 2, 3)), "PNG"))
    data[60:80] = b"\xff" * 20
    with pytest.raises(ImageError):
        decode_image(bytes(data), source="bad.png", max_pixels=LIMIT)


def test_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(ImageError, match=r"^bomb\.png: image (too large|.*above the limit)"):
        decode_image(_png_header_claiming(100_000, 100_000), source="bomb.png", max_pixels=LIMIT)


def test_pixel_limit_is_configurable() -> None:
    data = _encode(Image.new("RGB", (100, 100)), "PNG")
    assert decode_image(data, source="ok.png", max_pixels=10_000).shape == (100, 100, 3)
    with pytest.raises(ImageError, match="10000 pixels, above the limit of 9999"):
        decode_image(data, source="ok.png", max_pixels=9_999)


def test_grayscale_becomes_three_channels() -> None:
    data = _encode(Image.new("L", (10, 8), 77), "PNG")
    image = decode_image(data, source="g.png", max_pixels=LIMIT)
    assert image.shape == (8, 10, 3) and (image == 77).all()


def test_rgba_is_flattened_onto_white() -> None:
    rgba = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    image = decode_image(_encode(rgba, "PNG"), source="a.png", max_pixels=LIMIT)
    assert image.shape == (10, 10, 3) and (image == 255).all()


def test_sixteen_bit_grayscale_keeps_its_range() -> None:
    values = np.array([[0, 65535], [32896, 257]], dtype=np.uint16)
    data = _encode(Image.fromarray(values), "PNG")
    image = decode_image(data, source="depth.png", max_pixels=LIMIT)
    assert image[..., 0].tolist() == [[0, 255], [128, 1]]


def test_exif_orientation_is_applied() -> None:
    # A landscape 60x20 image whose EXIF says "rotate 90° clockwise" (orientation 6) is portrait when shown.
    pixels = np.zeros((20, 60, 3), np.uint8)
    pixels[:, :10] = 255  # white stripe at the left edge of the stored image
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _encode(Image.fromarray(pixels), "JPEG", exif=exif.tobytes(), quality=95)
    image = decode_image(data, source="phone.jpg", max_pixels=LIMIT)
    assert image.shape == (60, 20, 3)
    assert image[:10].mean() > 200 and image[-10:].mean() < 50  # the left edge became the top


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"nope\.jpg: cannot read file"):
        read_image(tmp_path / "nope.jpg", max_pixels=LIMIT)
