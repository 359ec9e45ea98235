"""The OpenCV fast path for plain JPEGs: same pixels as Pillow, and it never skips a check."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.unit.vision.paths import HARDHAT
from vision.images import ImageError, decode_image, read_image
from vision.jpeg_header import JpegHeader, exif_orientation, jpeg_header

LIMIT = 50_000_000
FIXTURES = sorted((HARDHAT / "images").glob("*.jpg"))


def _jpeg(image: Image.Image, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", **kwargs)
    return buffer.getvalue()


def _pillow_bgr(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))[..., ::-1]


def _noise(height: int, width: int, mode: str = "RGB") -> Image.Image:
    pixels = np.random.default_rng(height * width).integers(0, 255, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels).convert(mode)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_real_photos_take_the_fast_path_with_pillows_pixels(path: Path) -> None:
    data = path.read_bytes()
    header = jpeg_header(data)
    assert header is not None and header.orientation == 1
    image = decode_image(data, source=path.name, max_pixels=LIMIT)
    assert image.shape == (header.height, header.width, 3)
    assert np.abs(image.astype(int) - _pillow_bgr(data).astype(int)).max() <= 1


def test_read_image_equals_decode_image(tmp_path: Path) -> None:
    data = FIXTURES[0].read_bytes()
    np.testing.assert_array_equal(
        read_image(FIXTURES[0], max_pixels=LIMIT), decode_image(data, source="x", max_pixels=LIMIT)
    )
    png = tmp_path / "still.png"  # a non-JPEG file still streams through Pillow
    Image.new("RGB", (12, 9), (255, 0, 0)).save(png)  # red: BGR channel 2
    image = read_image(png, max_pixels=LIMIT)
    assert image.shape == (9, 12, 3) and (image[..., 2] == 255).all() and (image[..., 0] == 0).all()


@pytest.mark.parametrize(("mode", "kwargs"), [("RGB", {"progressive": True}), ("RGB", {"subsampling": 0})])
def test_progressive_and_444_jpegs_take_the_fast_path(mode: str, kwargs: dict[str, object]) -> None:
    data = _jpeg(_noise(37, 53, mode), quality=90, **kwargs)
    assert jpeg_header(data) == JpegHeader(width=53, height=37, orientation=1)
    image = decode_image(data, source="p.jpg", max_pixels=LIMIT)
    assert np.abs(image.astype(int) - _pillow_bgr(data).astype(int)).max() <= 1


def test_grayscale_jpeg_becomes_three_equal_channels() -> None:
    data = _jpeg(_noise(20, 30, "L"))
    assert jpeg_header(data) is not None
    image = decode_image(data, source="g.jpg", max_pixels=LIMIT)
    assert image.shape == (20, 30, 3)
    assert (image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all()


def test_cmyk_jpeg_is_left_to_pillow_and_still_decodes() -> None:
    data = _jpeg(Image.new("CMYK", (16, 8), (0, 255, 255, 0)))  # red in CMYK
    assert jpeg_header(data) is None
    image = decode_image(data, source="cmyk.jpg", max_pixels=LIMIT)
    assert image.shape == (8, 16, 3) and image[4, 8, 2] > 200 and image[4, 8, 0] < 60


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_rotated_jpeg_is_left_to_the_exif_path(orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _jpeg(_noise(20, 60), exif=exif.tobytes())
    header = jpeg_header(data)
    assert header is not None and header.orientation == orientation
    image = decode_image(data, source="phone.jpg", max_pixels=LIMIT)
    assert image.shape == ((20, 60, 3) if orientation == 3 else (60, 20, 3))


def test_upright_exif_takes_the_fast_path_unrotated() -> None:
    exif = Image.Exif()
    exif[0x0112] = 1
    exif[0x010F] = "maker"  # another tag before it: the walk has to find the right entry
    data = _jpeg(_noise(20, 60), exif=exif.tobytes())
    assert jpeg_header(data) == JpegHeader(width=60, height=20, orientation=1)
    assert decode_image(data, source="up.jpg", max_pixels=LIMIT).shape == (20, 60, 3)


def test_big_endian_exif_orientation_is_read() -> None:
    entries = struct.pack(">HHIHH", 0x010F, 2, 4, 0, 0) + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0)
    tiff = b"MM" + struct.pack(">HI", 42, 8) + struct.pack(">H", 2) + entries + b"\0\0\0\0"
    assert exif_orientation(tiff) == 6
    assert exif_orientation(tiff[:20]) is None  # entry cut short: unreadable, not "upright"
    assert exif_orientation(b"XX" + tiff[2:]) is None


def _with_size(data: bytes, width: int, height: int) -> bytes:
    """Patch the frame header (SOF0) of a baseline JPEG to claim another size."""
    at = data.index(b"\xff\xc0") + 5
    return data[:at] + struct.pack(">HH", height, width) + data[at + 4 :]


def test_huge_jpeg_is_refused_from_its_header_before_decoding() -> None:
    data = _with_size(_jpeg(_noise(16, 16)), 60_000, 60_000)
    assert jpeg_header(data) == JpegHeader(width=60_000, height=60_000, orientation=1)
    with pytest.raises(ImageError, match=r"^bomb\.jpg: image is 60000x60000 = 3600000000 pixels, above"):
        decode_image(data, source="bomb.jpg", max_pixels=LIMIT)


def test_damaged_but_complete_jpegs_decode_as_leniently_as_pillow_does() -> None:
    # libjpeg (behind both Pillow and OpenCV) fills a damaged scan with grey and warns; neither raises.
    # The fast path must neither be stricter nor hide anything Pillow would have refused.
    data = _jpeg(_noise(64, 64), quality=90)
    middle = len(data) // 2
    damaged = {
        "size lie": _with_size(data, 96, 80),
        "cut, end marker re-added": data[:middle] + b"\xff\xd9",
        "zeroed bytes": data[:middle] + bytes(50) + data[middle + 50 :],
    }
    for name, broken in damaged.items():
        assert jpeg_header(broken) is not None, name
        fast = decode_image(broken, source="d.jpg", max_pixels=LIMIT)
        assert fast.shape == _pillow_bgr(broken).shape, name


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff\xd9",
        b"\xff\xd8garbage\xff\xd9",
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff\xe0\x00\x01\xff\xd9",
    ],
    ids=["no-frame", "garbage", "png", "bad-length"],
)
def test_malformed_headers_are_not_plain_jpegs(data: bytes) -> None:
    assert jpeg_header(data) is None


def test_truncated_jpeg_is_not_a_plain_jpeg() -> None:
    data = _jpeg(_noise(64, 64))
    assert jpeg_header(data) is not None
    assert jpeg_header(data[: len(data) // 2]) is None  # no end-of-image marker: Pillow decides


def test_jpeg_opencv_cannot_decode_is_reported_by_pillow() -> None:
    data = _jpeg(_noise(16, 16))
    table = data.index(b"\xff\xdb") + 4  # first quantisation table: its id byte
    broken = data[:table] + b"\x0f" + data[table + 1 :]  # table id 15: a fatal error inside libjpeg
    assert jpeg_header(broken) is not None  # the header walk cannot see it: the decoder must
    with pytest.raises(ImageError, match=r"^odd\.jpg: corrupt or truncated image data \(broken data stream"):
        decode_image(broken, source="odd.jpg", max_pixels=LIMIT)
