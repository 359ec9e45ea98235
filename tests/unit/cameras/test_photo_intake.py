"""Field photo intake on crafted uploads: good photos, and every kind of bad one the issue lists."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from cameras.photos import (
    IntakeLimits,
    PhotoFormat,
    PhotoRejected,
    intake_photo,
    jpeg_end,
    png_end,
    sniff_format,
)
from vision.images import decode_image


def _scene(width: int = 160, height: int = 90) -> Image.Image:
    """Left half red, right half blue: orientation changes are visible in the decoded pixels."""
    array = np.zeros((height, width, 3), np.uint8)
    array[:, : width // 2] = (220, 30, 30)
    array[:, width // 2 :] = (30, 30, 220)
    return Image.fromarray(array, "RGB")


def _exif(
    *,
    orientation: int | None = None,
    gps: dict[int, object] | None = None,
    taken: str | None = None,
    offset: str | None = None,
    description: str | None = None,
) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if description is not None:
        exif[0x010E] = description
    if gps is not None:
        exif[0x8825] = gps
    sub: dict[int, object] = {}
    if taken is not None:
        sub[36867] = taken
    if offset is not None:
        sub[36881] = offset
    if sub:
        exif[0x8769] = sub
    return exif


def _jpeg(image: Image.Image | None = None, exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    (image or _scene()).save(out, "JPEG", quality=90, exif=exif if exif is not None else Image.Exif())
    return out.getvalue()


def _png(image: Image.Image | None = None) -> bytes:
    out = io.BytesIO()
    (image or _scene()).save(out, "PNG")
    return out.getvalue()


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60 * 1000)
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds, 1000)


SHANGHAI_GPS = {1: "N", 2: _dms(31.2304), 3: "E", 4: _dms(121.4737), 5: b"\x00", 6: IFDRational(12, 1)}


def test_jpeg_with_exif_gives_gps_time_orientation_and_a_clean_derivative() -> None:
    data = _jpeg(exif=_exif(orientation=6, gps=SHANGHAI_GPS, taken="2026:11:20 14:03:07", offset="+08:00"))
    photo = intake_photo(data, source="phone.jpg")

    assert photo.format is PhotoFormat.JPEG
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    # Orientation 6 = rotate 90° clockwise to display: 160x90 becomes 90x160, red half on top.
    assert (photo.width, photo.height) == (90, 160)
    shown = decode_image(photo.stored_bytes, source="stored", max_pixels=10**6)  # orientation applied
    top, bottom = shown[20, 45], shown[140, 45]
    assert top[2] > 180 and top[0] < 80  # BGR: red
    assert bottom[0] > 180 and bottom[2] < 80  # blue
    assert photo.gps is not None
    assert photo.gps.latitude == pytest.approx(31.2304, abs=1e-4)
    assert photo.gps.longitude == pytest.approx(121.4737, abs=1e-4)
    assert photo.gps.altitude_m == pytest.approx(12.0)
    assert photo.captured_at == datetime(2026, 11, 20, 14, 3, 7, tzinfo=timezone(timedelta(hours=8)))
    assert photo.warnings == ()
    # The stored copy carries no metadata but the orientation tag (losslessly stripped, not re-encoded).
    assert photo.stored_media_type == "image/jpeg"
    with Image.open(io.BytesIO(photo.stored_bytes)) as stored:
        assert dict(stored.getexif()) == {0x0112: 6}
        assert stored.size == (160, 90)
    assert b"2026:11:20" not in photo.stored_bytes and len(photo.stored_bytes) < len(data)


def test_reupload_has_the_same_hash_and_strip_exif_off_keeps_the_original() -> None:
    data = _jpeg(exif=_exif(gps=SHANGHAI_GPS))
    first = intake_photo(data, source="a.jpg", limits=IntakeLimits(strip_exif=False))
    again = intake_photo(data, source="retry.jpg", limits=IntakeLimits(strip_exif=False))
    assert first.sha256 == again.sha256
    assert first.stored_bytes == data
    assert intake_photo(_jpeg(), source="other.jpg").sha256 != first.sha256


def test_southern_western_coordinates_and_naive_local_time() -> None:
    gps = {1: "S", 2: _dms(33.8688), 3: "W", 4: _dms(70.6693)}
    photo = intake_photo(_jpeg(exif=_exif(gps=gps, taken="2025:01:02 03:04:05")), source="x.jpg")
    assert photo.gps is not None and photo.gps.altitude_m is None
    assert photo.gps.latitude == pytest.approx(-33.8688, abs=1e-4)
    assert photo.gps.longitude == pytest.approx(-70.6693, abs=1e-4)
    assert photo.captured_at == datetime(2025, 1, 2, 3, 4, 5)
    assert photo.captured_at.tzinfo is None


def test_png_and_format_sniffed_from_bytes_not_the_name() -> None:
    photo = intake_photo(_png(), source="lies.jpg")
    assert photo.format is PhotoFormat.PNG and photo.stored_media_type == "image/png"
    assert photo.gps is None and photo.captured_at is None
    assert (photo.width, photo.height) == (160, 90)
    stored = cv2.imdecode(np.frombuffer(photo.stored_bytes, np.uint8), cv2.IMREAD_COLOR)
    original = cv2.imdecode(np.frombuffer(_png(), np.uint8), cv2.IMREAD_COLOR)
    assert np.array_equal(stored, original)  # PNG re-encoding is lossless


def test_heic_is_decoded_when_pillow_heif_is_installed() -> None:
    pillow_heif = pytest.importorskip("pillow_heif", reason="HEIC support is optional (pillow-heif)")
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    _scene(128, 64).save(out, "HEIF", quality=90)
    photo = intake_photo(out.getvalue(), source="iphone.heic")
    assert photo.format is PhotoFormat.HEIC
    assert (photo.width, photo.height) == (128, 64)
    stored = decode_image(photo.stored_bytes, source="stored", max_pixels=10**6)
    assert stored[32, 10][2] > 150 and stored[32, 118][0] > 150
    assert photo.stored_media_type == "image/jpeg"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"GIF89a" + b"\x00" * 64, "GIF"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 64, "WebP"),
        (b"PK\x03\x04" + b"\x00" * 64, "ZIP archive"),
        (b"  <html><script>alert(1)</script></html>", "HTML/XML text"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "ISO media"),
        (bytes(range(256)), "unknown"),
    ],
)
def test_unsupported_formats_are_rejected_by_name(data: bytes, expected: str) -> None:
    with pytest.raises(PhotoRejected, match=f"unsupported format: {expected}"):
        intake_photo(data, source="upload")


def test_empty_and_oversized_uploads_are_rejected_before_decoding() -> None:
    with pytest.raises(PhotoRejected, match="empty upload"):
        intake_photo(b"", source="empty.jpg")
    data = _jpeg()
    limit = len(data) - 1
    with pytest.raises(PhotoRejected, match=f"{len(data)} bytes exceeds the limit of {limit} bytes"):
        intake_photo(data, source="big.jpg", limits=IntakeLimits(max_bytes=limit))


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.95])
def test_truncated_jpeg_and_png_are_rejected(fraction: float) -> None:
    for data in (_jpeg(), _png(Image.effect_noise((200, 200), 64).convert("RGB"))):
        cut = data[: int(len(data) * fraction)]
        with pytest.raises(PhotoRejected, match="truncated or corrupt"):
            intake_photo(cut, source="cut")


def _zip_payload() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.sh", "#!/bin/sh\necho owned\n")
    return out.getvalue()


def test_polyglot_trailers_are_stripped_and_never_stored() -> None:
    image = _jpeg(exif=_exif(gps=SHANGHAI_GPS))
    polyglot = image + _zip_payload()
    assert zipfile.is_zipfile(io.BytesIO(polyglot))  # a valid JPEG and a valid ZIP at once
    for strip in (True, False):
        photo = intake_photo(polyglot, source="poly.jpg", limits=IntakeLimits(strip_exif=strip))
        assert b"PK\x03\x04" not in photo.stored_bytes
        assert any("trailing data" in note for note in photo.warnings)
        assert photo.sha256 == hashlib.sha256(polyglot).hexdigest()
    assert intake_photo(polyglot, source="p", limits=IntakeLimits(strip_exif=False)).stored_bytes == image
    png_poly = _png() + b"<script>alert(1)</script>"
    photo = intake_photo(png_poly, source="poly.png", limits=IntakeLimits(strip_exif=False))
    assert photo.stored_bytes == _png() and photo.warnings


def test_jpeg_end_is_found_by_structure_not_by_searching_for_ffd9() -> None:
    # An EXIF thumbnail contains its own FFD9; the end must still be the main image's EOI.
    thumb = io.BytesIO()
    _scene(32, 18).save(thumb, "JPEG")
    exif = _exif(description="x")
    data = _jpeg(exif=exif)
    assert jpeg_end(data) == len(data)
    assert jpeg_end(data + thumb.getvalue()) == len(data)
    assert png_end(_png()) == len(_png())


def _png_with_header(width: int, height: int, extra_chunks: bytes = b"") -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    pixels = zlib.compress(b"\x00" * (1 + 3 * min(width, 64)))
    return b"\x89PNG\r\n\x1a\n" + header + extra_chunks + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_decompression_bombs_are_refused_from_the_header() -> None:
    bomb = _png_with_header(100_000, 100_000)  # 10 gigapixels declared in a few dozen bytes
    assert len(bomb) < 200
    with pytest.raises(PhotoRejected, match=r"too large|above the limit"):
        intake_photo(bomb, source="bomb.png")
    small_bomb = _png_with_header(12_000, 12_000)  # under Pillow's own guard, over ours
    with pytest.raises(PhotoRejected, match="12000x12000 = 144000000 pixels, above the limit"):
        intake_photo(small_bomb, source="bomb2.png", limits=IntakeLimits(max_pixels=50_000_000))
    # A real, fully valid image that is simply too large for the configured limit.
    big = _png(Image.new("RGB", (1200, 1000)))
    with pytest.raises(PhotoRejected, match="1200x1000"):
        intake_photo(big, source="big.png", limits=IntakeLimits(max_pixels=1_000_000))


def test_garbage_exif_fields_are_ignored_with_warnings() -> None:
    bad_gps = {1: "N", 2: (IFDRational(500, 1), IFDRational(0, 1), IFDRational(0, 1)), 3: "E", 4: _dms(10)}
    photo = intake_photo(_jpeg(exif=_exif(gps=bad_gps, taken="yesterday at noon")), source="g.jpg")
    assert photo.gps is None and photo.captured_at is None
    assert any("GPS" in note for note in photo.warnings)
    assert any("capture time" in note for note in photo.warnings)

    zero_denominator = {
        1: "N",
        2: (IFDRational(1, 0), IFDRational(0, 1), IFDRational(0, 1)),
        3: "E",
        4: _dms(1),
    }
    assert intake_photo(_jpeg(exif=_exif(gps=zero_denominator)), source="z.jpg").gps is None

    wrong_shape = {1: "N", 2: IFDRational(31, 1), 3: "E", 4: (IFDRational(1, 1), IFDRational(2, 1))}
    assert intake_photo(_jpeg(exif=_exif(gps=wrong_shape)), source="w.jpg").gps is None

    impossible_date = intake_photo(_jpeg(exif=_exif(taken="2026:13:45 99:00:00")), source="d.jpg")
    assert impossible_date.captured_at is None


def test_huge_exif_fields_do_not_break_intake() -> None:
    # Near the 64 KiB APP1 limit: parsed, and the real fields next to it still come through.
    photo = intake_photo(
        _jpeg(exif=_exif(description="A" * 60_000, taken="2026:01:01 00:00:00")), source="huge.jpg"
    )
    assert photo.captured_at == datetime(2026, 1, 1)
    # PNG has no segment limit: a 1 MiB eXIf chunk is ignored rather than parsed.
    blob = _exif(description="B" * 1_000_000).tobytes()
    body = struct.pack(">I", len(blob)) + b"eXIf" + blob + struct.pack(">I", zlib.crc32(b"eXIf" + blob))
    data = _png_with_header(64, 1, extra_chunks=body)
    photo = intake_photo(data, source="huge.png")
    assert any("oversized EXIF" in note for note in photo.warnings)


def test_sniff_format_names() -> None:
    assert sniff_format(_jpeg()) is PhotoFormat.JPEG
    assert sniff_format(_png()) is PhotoFormat.PNG
    assert sniff_format(b"\x00\x00\x00\x18ftypheic\x00\x00") is PhotoFormat.HEIC
