"""Lossless JPEG metadata removal: the pixels stay byte-identical, EXIF/XMP/comments/thumbnails go."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from cameras.jpeg_strip import JpegStructureError, strip_jpeg_metadata
from vision.images import decode_image

GPS_IFD = 0x8825


def _segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment before the scan, walked independently of the code under test."""
    out, pos = [], 2
    while data[pos + 1] != 0xDA:
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        out.append((data[pos + 1], data[pos + 4 : pos + 2 + length]))
        pos += 2 + length
    return out


def _scan(data: bytes) -> bytes:
    return data[data.index(b"\xff\xda") :]


def _photo(
    *, orientation: int | None = None, icc: bytes | None = None, comment: bytes | None = None
) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera maker
    exif[0x0132] = "2026:11:20 14:03:07"
    if orientation is not None:
        exif[0x0112] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 3: "E"})
    out = io.BytesIO()
    image = Image.new("RGB", (64, 48), (200, 40, 40))
    extra = {"icc_profile": icc} if icc else {}
    image.save(out, "JPEG", quality=90, exif=exif, comment=comment, **extra)
    return out.getvalue()


def test_exif_and_comments_go_and_the_scan_is_copied_byte_for_byte() -> None:
    data = _photo(comment=b"<html><script>fetch('/api/v1/me')</script></html>")
    stripped = strip_jpeg_metadata(data)
    markers = [marker for marker, _ in _segments(stripped)]
    assert 0xE1 not in markers and 0xFE not in markers  # no APP1 (EXIF/XMP), no COM
    assert b"PhoneMaker" not in stripped and b"<script" not in stripped and b"2026:11:20" not in stripped
    assert _scan(stripped) == _scan(data)
    assert np.array_equal(
        decode_image(stripped, source="s", max_pixels=10**6), decode_image(data, source="d", max_pixels=10**6)
    )
    with Image.open(io.BytesIO(stripped)) as image:
        assert len(image.getexif()) == 0


def test_the_orientation_survives_as_the_only_exif_tag() -> None:
    stripped = strip_jpeg_metadata(_photo(orientation=8), orientation=8)
    app1 = [payload for marker, payload in _segments(stripped) if marker == 0xE1]
    assert len(app1) == 1 and app1[0].startswith(b"Exif\x00\x00MM")
    with Image.open(io.BytesIO(stripped)) as image:
        assert dict(image.getexif()) == {0x0112: 8}
    # JFIF's APP0 stays first (its header without a thumbnail: 14 payload bytes), the orientation next.
    assert [marker for marker, _ in _segments(stripped)][:2] == [0xE0, 0xE1]
    assert len(_segments(stripped)[0][1]) == 14


def test_an_icc_colour_profile_is_kept() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    stripped = strip_jpeg_metadata(_photo(icc=icc))
    with Image.open(io.BytesIO(stripped)) as image:
        assert image.info.get("icc_profile") == icc


@pytest.mark.parametrize("orientation", [0, 9])
def test_an_orientation_outside_exif_range_is_refused(orientation: int) -> None:
    with pytest.raises(ValueError, match="orientation must be 1-8"):
        strip_jpeg_metadata(_photo(), orientation=orientation)


def test_broken_structures_are_refused() -> None:
    data = _photo()
    with pytest.raises(JpegStructureError, match="not a JPEG"):
        strip_jpeg_metadata(b"\x89PNG" + data)
    with pytest.raises(JpegStructureError, match="no scan data"):
        strip_jpeg_metadata(data[: data.index(b"\xff\xda")])
    with pytest.raises(JpegStructureError, match="runs past the end"):
        strip_jpeg_metadata(data[:2] + b"\xff\xe1\xff\xff" + b"\x00" * 10)
