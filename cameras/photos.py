"""Field photo intake: what an inspector's phone uploads becomes a checked, oriented BGR image.

Policy decisions (documented here because they are choices, not facts):

* Formats: JPEG and PNG always; HEIC/HEIF when ``pillow-heif`` is installed, otherwise a clear
  "unsupported format". The format is sniffed from the bytes, never taken from the filename.
* Polyglots (data after the JPEG EOI / PNG IEND, e.g. an appended ZIP or a phone's motion-photo
  video) are *stripped*, not rejected: phones append such trailers routinely, and the trailer never
  reaches storage. A warning records it. A file whose image structure is truncated is rejected.
* The content hash is the SHA-256 of the uploaded bytes, so a retried upload of the same file is
  recognised however the derivative is produced.
* EXIF is read defensively: oversized blocks are ignored, out-of-range GPS and unparsable times
  become ``None`` with a warning, never an exception.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

import cv2
from PIL import Image

from cameras.jpeg_strip import JpegStructureError, strip_jpeg_metadata
from vision.images import BgrImage, ImageError, decode_image, decode_scaled

_VALIDATION_SIDE = 1024  # a JPEG is checked by decoding it at 1/2-1/8 size: every scan byte is still read
_ORIENTATION = 0x0112
_MAX_EXIF_BYTES = 256 * 1024  # a JPEG APP1 segment cannot exceed 64 KiB; anything far bigger is abuse
_GPS_IFD, _EXIF_IFD = 0x8825, 0x8769
_DATETIME, _DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL = 306, 36867, 36881
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


class PhotoFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    HEIC = "heic"


class PhotoRejected(ValueError):  # noqa: N818 - the name the serving layer and API errors use
    """The upload cannot be accepted; the message is one line, safe to show to the uploader."""


@dataclass(frozen=True, slots=True)
class IntakeLimits:
    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 50_000_000
    strip_exif: bool = True


@dataclass(frozen=True, slots=True)
class GpsFix:
    latitude: float
    longitude: float
    altitude_m: float | None


@dataclass(frozen=True, slots=True)
class IntakePhoto:
    sha256: str  # of the uploaded bytes: the idempotency key for re-uploads
    format: PhotoFormat
    width: int  # as displayed: EXIF orientation applied
    height: int
    captured_at: datetime | None  # aware when the photo records its UTC offset, else naive local time
    gps: GpsFix | None
    stored_bytes: bytes  # the derivative to store: metadata-free re-encode, or the trimmed original
    stored_media_type: str
    warnings: tuple[str, ...]


def sniff_format(data: bytes) -> PhotoFormat | str:
    """The photo format from magic bytes, or the name of an unsupported one."""
    if data.startswith(b"\xff\xd8\xff"):
        return PhotoFormat.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PhotoFormat.PNG
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        return PhotoFormat.HEIC if brand in _HEIF_BRANDS else f"ISO media ({brand.decode('latin-1')!r})"
    for magic, name in ((b"GIF8", "GIF"), (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF")):
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data.startswith(b"PK\x03\x04"):
        return "ZIP archive"
    if data.lstrip()[:1] == b"<":
        return "HTML/XML text"
    return "unknown"


def jpeg_end(data: bytes) -> int | None:
    """Offset just past the EOI marker that ends the image (walking segments, not searching for
    FFD9, which also occurs inside EXIF thumbnails); None when the image is truncated."""
    n, pos = len(data), 2
    while pos + 1 < n:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return pos + 2
        if 0xD0 <= marker <= 0xD7 or marker in (0x01, 0xD8):
            pos += 2
            continue
        if pos + 4 > n:
            return None
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2:
            return None
        pos += 2 + length
        if marker == 0xDA:  # entropy-coded data follows until the next real marker
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= n:
                    return None
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    pos += 2
                elif following == 0xFF:
                    pos += 1
                else:
                    break
    return None


def png_end(data: bytes) -> int | None:
    """Offset just past the IEND chunk; None when the chunk structure is truncated."""
    n, pos = len(data), 8
    while pos + 12 <= n:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        pos += 12 + length
        if pos > n:
            return None
        if kind == b"IEND":
            return pos
    return None


_heif_lock = threading.Lock()
_heif_state: list[bool] = []


def heif_supported() -> bool:
    """Register pillow-heif's opener once, on first need (not at import time)."""
    with _heif_lock:
        if not _heif_state:
            try:
                import pillow_heif

                pillow_heif.register_heif_opener()
                _heif_state.append(True)
            except ImportError:
                _heif_state.append(False)
        return _heif_state[0]


def intake_photo(data: bytes, *, source: str, limits: IntakeLimits = IntakeLimits()) -> IntakePhoto:
    """Validate, decode and describe one uploaded photo, or raise ``PhotoRejected``."""
    if not data:
        raise PhotoRejected(f"{source}: empty upload")
    if len(data) > limits.max_bytes:
        raise PhotoRejected(f"{source}: {len(data)} bytes exceeds the limit of {limits.max_bytes} bytes")
    sha256 = hashlib.sha256(data).hexdigest()
    kind = sniff_format(data)
    if not isinstance(kind, PhotoFormat):
        raise PhotoRejected(f"{source}: unsupported format: {kind} (accepted: JPEG, PNG, HEIC)")
    if kind is PhotoFormat.HEIC and not heif_supported():
        raise PhotoRejected(f"{source}: unsupported format: HEIC (pillow-heif is not installed)")

    notes: list[str] = []
    body = data
    if kind is not PhotoFormat.HEIC:
        end = jpeg_end(data) if kind is PhotoFormat.JPEG else png_end(data)
        if end is None:
            raise PhotoRejected(f"{source}: truncated or corrupt {kind.value.upper()} structure")
        if end < len(data):
            notes.append(f"stripped {len(data) - end} bytes of trailing data after the image")
            body = data[:end]

    exif = _read_exif(body, notes)
    gps = _gps(exif, notes) if exif is not None else None
    captured_at = _captured_at(exif, notes) if exif is not None else None
    try:
        if kind is PhotoFormat.JPEG:
            checked = decode_scaled(
                body, source=source, max_pixels=limits.max_pixels, max_side=_VALIDATION_SIDE
            )
            width, height = checked.original_width, checked.original_height
            stored, media_type = (_strip_jpeg(body, exif) if limits.strip_exif else body), "image/jpeg"
        else:  # PNG and HEIC are re-encoded from pixels: rare from phones, and HEIC is no web format
            image = decode_image(body, source=source, max_pixels=limits.max_pixels)
            height, width = int(image.shape[0]), int(image.shape[1])
            if limits.strip_exif:
                stored, media_type = _reencode(image, kind)
            else:
                stored, media_type = body, f"image/{kind.value}"
    except ImageError as exc:
        raise PhotoRejected(str(exc)) from None
    return IntakePhoto(sha256, kind, width, height, captured_at, gps, stored, media_type, tuple(notes))


def _strip_jpeg(body: bytes, exif: Image.Exif | None) -> bytes:
    orientation = exif.get(_ORIENTATION, 1) if exif is not None else 1
    try:
        return strip_jpeg_metadata(body, orientation if orientation in range(1, 9) else 1)
    except JpegStructureError as exc:  # the decoder accepted it, so this is unlikely; still the uploader's
        raise PhotoRejected(f"corrupt JPEG structure ({exc})") from None


def _reencode(image: BgrImage, kind: PhotoFormat) -> tuple[bytes, str]:
    # Re-encoding from pixels drops every metadata block (EXIF, XMP, comments) and bakes the
    # orientation in; PNG stays lossless, photos become JPEG at a quality that keeps evidence sharp.
    if kind is PhotoFormat.PNG:
        ok, encoded = cv2.imencode(".png", image)
        media_type = "image/png"
    else:
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
        media_type = "image/jpeg"
    if not ok:
        raise PhotoRejected("could not encode the stored derivative")
    return encoded.tobytes(), media_type


def _read_exif(data: bytes, notes: list[str]) -> Image.Exif | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:
                raw = image.info.get("exif")
                if isinstance(raw, bytes | bytearray) and len(raw) > _MAX_EXIF_BYTES:
                    notes.append(f"ignored an oversized EXIF block ({len(raw)} bytes)")
                    return None
                exif = image.getexif()
                return exif if len(exif) else None
    except Exception:  # EXIF is optional metadata: garbage in it must never fail the upload
        notes.append("ignored unreadable EXIF metadata")
        return None


def _ifd(exif: Image.Exif, tag: int) -> dict[int, Any]:
    try:
        return dict(exif.get_ifd(tag))
    except Exception:
        return {}


def _rational(value: object) -> float:
    result = float(value)  # type: ignore[arg-type]  # IFDRational, int or float; others raise
    if not math.isfinite(result):
        raise ValueError("not finite")
    return result


def _degrees(value: object) -> float:
    if not isinstance(value, tuple | list) or len(value) != 3:
        raise ValueError("GPS coordinate must be degrees, minutes, seconds")
    degrees, minutes, seconds = (_rational(v) for v in value)
    return degrees + minutes / 60.0 + seconds / 3600.0


def _ref(value: object) -> str:
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    return text.strip("\x00 ").upper()[:1]


def _gps(exif: Image.Exif, notes: list[str]) -> GpsFix | None:
    gps = _ifd(exif, _GPS_IFD)
    if 2 not in gps or 4 not in gps:
        return None
    try:
        latitude, longitude = _degrees(gps[2]), _degrees(gps[4])
        if _ref(gps.get(1, "N")) == "S":
            latitude = -latitude
        if _ref(gps.get(3, "E")) == "W":
            longitude = -longitude
        if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
            raise ValueError(f"out of range ({latitude:.4f}, {longitude:.4f})")
        altitude: float | None = None
        if 6 in gps:
            altitude = _rational(gps[6])
            below = gps.get(5)
            if below in (1, b"\x01"):
                altitude = -altitude
    except (ValueError, TypeError, ZeroDivisionError, OverflowError) as exc:
        notes.append(f"ignored invalid EXIF GPS ({' '.join(str(exc).split())[:80]})")
        return None
    return GpsFix(round(latitude, 7), round(longitude, 7), altitude)


_EXIF_TIME = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def _text(value: object, limit: int = 64) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str) or len(value) > limit:
        return None
    return value.strip("\x00 ")


def _captured_at(exif: Image.Exif, notes: list[str]) -> datetime | None:
    sub = _ifd(exif, _EXIF_IFD)
    raw = _text(sub.get(_DATETIME_ORIGINAL)) or _text(exif.get(_DATETIME))
    if not raw:
        return None
    match = _EXIF_TIME.match(raw)
    try:
        if match is None:
            raise ValueError("not 'YYYY:MM:DD HH:MM:SS'")
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        when = datetime(year, month, day, hour, minute, second)  # EXIF times are local
        offset = _OFFSET.match(_text(sub.get(_OFFSET_TIME_ORIGINAL)) or "")
        if offset:
            sign = -1 if offset.group(1) == "-" else 1
            delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
            when = when.replace(tzinfo=timezone(sign * delta))
    except ValueError as exc:
        notes.append(f"ignored invalid EXIF capture time ({exc})")
        return None
    return when
